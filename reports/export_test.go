package reports

// FormatOpTime exposes formatOpTime to the browser tests, which check that
// the operation table's script writes times as the Go code does.
var FormatOpTime = formatOpTime
