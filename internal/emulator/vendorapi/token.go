package vendorapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// pageToken is the state carried by an opaque page token / cursor.
type pageToken struct {
	mode  PagingMode
	pos   int   // next event index to consider
	since int64 // window bounds (unix ns, math.MinInt64/MaxInt64 when unbounded); unused for PersistentToken
	until int64
}

const (
	tokenVersion = 1
	tokenMACLen  = 12
	tokenBodyLen = 1 + 1 + 8 + 8 + 8
)

var errBadToken = errors.New("invalid page token")

func (s *Server) encodeToken(t pageToken) string {
	var buf [tokenBodyLen + tokenMACLen]byte
	buf[0] = tokenVersion
	buf[1] = byte(t.mode)
	binary.BigEndian.PutUint64(buf[2:], uint64(t.pos))
	binary.BigEndian.PutUint64(buf[10:], uint64(t.since))
	binary.BigEndian.PutUint64(buf[18:], uint64(t.until))
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write(buf[:tokenBodyLen])
	copy(buf[tokenBodyLen:], m.Sum(nil)[:tokenMACLen])
	return base64.RawURLEncoding.EncodeToString(buf[:])
}

func (s *Server) decodeToken(str string) (pageToken, error) {
	var buf [tokenBodyLen + tokenMACLen]byte
	if base64.RawURLEncoding.DecodedLen(len(str)) != len(buf) {
		return pageToken{}, errBadToken
	}
	if _, err := base64.RawURLEncoding.Decode(buf[:], []byte(str)); err != nil {
		return pageToken{}, errBadToken
	}
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write(buf[:tokenBodyLen])
	if !hmac.Equal(m.Sum(nil)[:tokenMACLen], buf[tokenBodyLen:]) || buf[0] != tokenVersion {
		return pageToken{}, errors.New("invalid page token (not issued by this server)")
	}
	t := pageToken{
		mode:  PagingMode(buf[1]),
		pos:   int(binary.BigEndian.Uint64(buf[2:])),
		since: int64(binary.BigEndian.Uint64(buf[10:])),
		until: int64(binary.BigEndian.Uint64(buf[18:])),
	}
	if t.mode != s.cfg.Paging {
		return pageToken{}, errors.New("invalid page token (issued for another paging mode)")
	}
	if t.pos < 0 || t.pos > s.store.n {
		return pageToken{}, errBadToken
	}
	return t, nil
}
