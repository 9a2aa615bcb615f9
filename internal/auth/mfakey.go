package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// MFAKey encrypts TOTP secrets at rest: AES-256-GCM under a key derived
// with HKDF-SHA-256 from key material the server reads at start (a file,
// --mfa-key-file), never from the database, so that a dump or a backup
// of the database alone reveals no secret. Each ciphertext is bound to
// its user's id, so one user's secret cannot be copied to another row.
type MFAKey struct {
	aead cipher.AEAD
}

// MinMFAKeyLen is the least key material NewMFAKey takes: 256 bits.
const MinMFAKeyLen = 32

// NewMFAKey derives the key from material (at least MinMFAKeyLen bytes).
func NewMFAKey(material []byte) (*MFAKey, error) {
	if len(material) < MinMFAKeyLen {
		return nil, fmt.Errorf("%w: MFA key material must be at least %d bytes", ErrInvalid, MinMFAKeyLen)
	}
	key, err := hkdf.Key(sha256.New, material, nil, "jwtgate totp secret v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &MFAKey{aead: aead}, nil
}

func mfaAD(userID int64) []byte {
	ad := []byte("totp:\x00\x00\x00\x00\x00\x00\x00\x00")
	binary.BigEndian.PutUint64(ad[5:], uint64(userID))
	return ad
}

// seal encrypts a user's secret: nonce, then ciphertext and tag.
func (k *MFAKey) seal(userID int64, secret []byte) []byte {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(secret)+k.aead.Overhead())
	rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, secret, mfaAD(userID))
}

// errMFAKeyWrong means a stored secret does not open with this key: the
// key file was replaced or the row altered.
var errMFAKeyWrong = errors.New("the TOTP secret does not decrypt with the MFA key (was the key file replaced?)")

func (k *MFAKey) open(userID int64, enc []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(enc) < n+k.aead.Overhead() {
		return nil, errMFAKeyWrong
	}
	out, err := k.aead.Open(nil, enc[:n], enc[n:], mfaAD(userID))
	if err != nil {
		return nil, errMFAKeyWrong
	}
	return out, nil
}

// LoadMFAKeyFile reads key material from path. With create, a missing
// file is made with 32 random bytes, readable by the owner only (0600):
// written to a temporary file and linked into place, so two processes
// starting at once never see a partial file nor keep different keys (the
// second link fails and that process reads the first's).
func LoadMFAKeyFile(path string, create bool) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) < MinMFAKeyLen {
			return nil, fmt.Errorf("%w: MFA key file %s holds %d bytes, fewer than %d", ErrInvalid, path, len(b), MinMFAKeyLen)
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) || !create {
		return nil, fmt.Errorf("MFA key file: %w", err)
	}
	key := make([]byte, MinMFAKeyLen)
	rand.Read(key)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mfa-key-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("MFA key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(key)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	if errors.Is(err, os.ErrExist) {
		return LoadMFAKeyFile(path, false)
	}
	if err != nil {
		return nil, fmt.Errorf("MFA key file: %w", err)
	}
	return key, nil
}
