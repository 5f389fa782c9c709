package history

import (
	"context"
	"os"
	"path/filepath"
)

// AppendFile appends r with its result file, read from path, whose absolute path it records.
func (h *DB) AppendFile(ctx context.Context, r *Run, path string) error {
	file, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if abs, err := filepath.Abs(path); err == nil {
		r.ResultPath = abs
	}
	return h.Append(ctx, r, file)
}
