package main

import (
	"context"
	"errors"
	"io"
)

func runDemo(ctx context.Context, cfg Config, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return errors.New("demo: not yet")
}
