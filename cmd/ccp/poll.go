package main

import (
	"context"
	"io"
)

func cmdPoll(ctx context.Context, o *options, stdout, stderr io.Writer) int { return 0 }
