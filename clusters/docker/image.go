package docker

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/moby/moby/client"
)

// pullTimeout bounds pulling one image: a registry that cannot be reached
// fails in milliseconds, a slow one must not hang the run.
const pullTimeout = 10 * time.Minute

// HasImage reports whether ref is on the engine.
func (e *Engine) HasImage(ctx context.Context, ref string) (bool, error) {
	if _, err := e.cli.ImageInspect(ctx, ref); err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return true, nil
}

// EnsureImage makes ref present on the engine, pulling it if it is not.
// progress receives one line when a pull starts.
func (e *Engine) EnsureImage(ctx context.Context, ref string, progress io.Writer) error {
	if ok, err := e.HasImage(ctx, ref); err != nil || ok {
		return err
	}
	fmt.Fprintf(progress, "pulling image %s\n", ref)
	pctx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	resp, err := e.cli.ImagePull(pctx, ref, client.ImagePullOptions{})
	if err == nil {
		err = resp.Wait(pctx)
	}
	if err != nil {
		return fmt.Errorf("image %s is not on the engine and could not be pulled: %s", ref, oneLine(err))
	}
	return nil
}

// BuildFile is one file of an image's build context.
type BuildFile struct {
	// Name is the path in the build context.
	Name string
	// Data is the content; when nil, Source is read from disk instead.
	Data   []byte
	Source string
	Mode   int64
}

// BuildImage builds ref from a build context of files, which must hold a
// Dockerfile. The engine's classic builder is used: it needs no BuildKit
// and can build FROM scratch without a registry.
func (e *Engine) BuildImage(ctx context.Context, ref string, files []BuildFile, progress io.Writer) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeContext(pw, files)) }()
	defer pr.Close()
	res, err := e.cli.ImageBuild(ctx, pr, client.ImageBuildOptions{
		Tags: []string{ref}, Remove: true, ForceRemove: true, Dockerfile: "Dockerfile",
	})
	if err != nil {
		return fmt.Errorf("build image %s: %w", ref, err)
	}
	defer res.Body.Close()
	// The build reports failures in its JSON stream, not in the status.
	dec := json.NewDecoder(res.Body)
	for {
		var msg struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("build image %s: read build output: %w", ref, err)
		}
		if msg.Error != "" {
			return fmt.Errorf("build image %s: %s", ref, strings.TrimSpace(msg.Error))
		}
		if s := strings.TrimSpace(msg.Stream); strings.HasPrefix(s, "Step ") || strings.HasPrefix(s, "Successfully") {
			fmt.Fprintf(progress, "  %s\n", s)
		}
	}
	if ok, err := e.HasImage(ctx, ref); err != nil || !ok {
		return errors.Join(fmt.Errorf("build image %s: no image after the build", ref), err)
	}
	return nil
}

// writeContext writes files as the tar stream the engine builds from.
func writeContext(w io.Writer, files []BuildFile) error {
	tw := tar.NewWriter(w)
	for _, f := range files {
		data := f.Data
		if data == nil {
			b, err := os.ReadFile(f.Source)
			if err != nil {
				return fmt.Errorf("build context: %w", err)
			}
			data = b
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.Name, Mode: mode, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	return tw.Close()
}
