package decode

import (
	"io"

	kgzip "github.com/klauspost/compress/gzip"
)

func kgzipNewReader(r io.Reader) (io.Reader, error) { return kgzip.NewReader(r) }
