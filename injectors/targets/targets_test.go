package targets

import "testing"

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		word     string
		n, want  int
		notAWord bool
	}{
		{word: "one", n: 1, want: 1},
		{word: "random-one", n: 5, want: 1},
		{word: "leader", n: 3, want: 1},
		{word: "minority", n: 2, want: 0}, // no strict minority of 2
		{word: "minority", n: 3, want: 1},
		{word: "random-minority", n: 5, want: 2},
		{word: "majority", n: 2, want: 2},
		{word: "random-majority", n: 5, want: 3},
		{word: "all", n: 4, want: 4},
		{word: "all-links", n: 3, want: 0},
		{word: "", n: 3, want: 0},
		{word: "n2", n: 3, notAWord: true},
	} {
		got, ok := Count(tt.word, tt.n)
		if got != tt.want || ok == tt.notAWord {
			t.Errorf("Count(%q, %d) = %d, %v; want %d, %v", tt.word, tt.n, got, ok, tt.want, !tt.notAWord)
		}
	}
}
