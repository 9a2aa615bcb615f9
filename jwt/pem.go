package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

// PEM block types this package reads.
const (
	pemPKCS8    = "PRIVATE KEY"
	pemPKCS1    = "RSA PRIVATE KEY"
	pemSEC1     = "EC PRIVATE KEY"
	pemPKIX     = "PUBLIC KEY"
	pemPKCS1Pub = "RSA PUBLIC KEY"
	pemCert     = "CERTIFICATE"
	pemECParams = "EC PARAMETERS"
	pemEncPKCS8 = "ENCRYPTED PRIVATE KEY"
)

// generatedRSABits is the modulus size GenerateKey uses for RS* and PS*.
const generatedRSABits = 2048

// firstPEMBlock returns the first PEM block that is not "EC PARAMETERS".
// OpenSSL's "ecparam -genkey" writes that block before the key; it only
// repeats the curve, which the key itself names.
func firstPEMBlock(data []byte) (*pem.Block, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("%w: no PEM key block found", ErrInvalidKey)
		}
		if b.Type == pemECParams {
			continue
		}
		// Legacy OpenSSL encryption (Proc-Type: 4,ENCRYPTED) and PKCS#8
		// EncryptedPrivateKeyInfo are refused rather than decrypted: the
		// legacy scheme is insecure (unauthenticated, MD5 key derivation)
		// and a server should be given its key unwrapped by a secret store.
		if b.Type == pemEncPKCS8 || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, fmt.Errorf("%w: encrypted PEM keys are not supported; decrypt the key first", ErrInvalidKey)
		}
		return b, nil
	}
}

func isPrivatePEMType(t string) bool {
	return t == pemPKCS8 || t == pemPKCS1 || t == pemSEC1
}

// ParsePEMPrivateKey parses the first private key in PEM data: PKCS#8
// ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY"),
// skipping an "EC PARAMETERS" block before it. The result is an
// *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey. Encrypted PEM
// is refused with ErrInvalidKey.
func ParsePEMPrivateKey(data []byte) (crypto.Signer, error) {
	b, err := firstPEMBlock(data)
	if err != nil {
		return nil, err
	}
	var key any
	switch b.Type {
	case pemPKCS8:
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case pemPKCS1:
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case pemSEC1:
		key, err = x509.ParseECPrivateKey(b.Bytes)
	case pemPKIX, pemPKCS1Pub, pemCert:
		return nil, fmt.Errorf("%w: PEM block %s holds a public key, not a private key", ErrInvalidKey, jwkQuote(b.Type))
	default:
		return nil, fmt.Errorf("%w: unsupported PEM block type %s", ErrInvalidKey, jwkQuote(b.Type))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: PEM %s: %w", ErrInvalidKey, b.Type, err)
	}
	switch key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return key.(crypto.Signer), nil
	}
	// PKCS#8 can also hold X25519/ECDH keys, which cannot sign.
	return nil, fmt.Errorf("%w: unsupported private key type %T", ErrInvalidKey, key)
}

// ParsePEMPublicKey parses the first public key in PEM data: PKIX
// ("PUBLIC KEY"), PKCS#1 ("RSA PUBLIC KEY"), or the subject public key of
// a "CERTIFICATE" (the certificate itself is not checked: this is only a
// convenient container for the key). The result is an *rsa.PublicKey,
// *ecdsa.PublicKey or ed25519.PublicKey.
//
// A private key is refused rather than reduced to its public half, so a
// private key file handed to a verifier by mistake is noticed.
func ParsePEMPublicKey(data []byte) (crypto.PublicKey, error) {
	b, err := firstPEMBlock(data)
	if err != nil {
		return nil, err
	}
	var key any
	switch b.Type {
	case pemPKIX:
		key, err = x509.ParsePKIXPublicKey(b.Bytes)
	case pemPKCS1Pub:
		key, err = x509.ParsePKCS1PublicKey(b.Bytes)
	case pemCert:
		var c *x509.Certificate
		if c, err = x509.ParseCertificate(b.Bytes); err == nil {
			key = c.PublicKey
		}
	case pemPKCS8, pemPKCS1, pemSEC1:
		return nil, fmt.Errorf("%w: PEM block %s holds a private key; pass the public key", ErrInvalidKey, jwkQuote(b.Type))
	default:
		return nil, fmt.Errorf("%w: unsupported PEM block type %s", ErrInvalidKey, jwkQuote(b.Type))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: PEM %s: %w", ErrInvalidKey, b.Type, err)
	}
	switch key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return key, nil
	}
	return nil, fmt.Errorf("%w: unsupported public key type %T", ErrInvalidKey, key)
}

// ParsePEMKey parses a private or public PEM key (see ParsePEMPrivateKey
// and ParsePEMPublicKey) into a Key for alg: a signing key for a private
// key, a verify-only key for a public key or certificate. alg "" means
// DefaultAlgorithm of the key (RS256 for RSA, so pass PS256 etc.
// explicitly for RSA-PSS). HMAC secrets are not PEM; use NewHMACKey.
func ParsePEMKey(data []byte, alg Algorithm) (*Key, error) {
	b, err := firstPEMBlock(data)
	if err != nil {
		return nil, err
	}
	if isPrivatePEMType(b.Type) {
		priv, err := ParsePEMPrivateKey(data)
		if err != nil {
			return nil, err
		}
		if alg == "" {
			if alg, err = DefaultAlgorithm(priv); err != nil {
				return nil, err
			}
		}
		return NewSigningKey(alg, priv)
	}
	pub, err := ParsePEMPublicKey(data)
	if err != nil {
		return nil, err
	}
	if alg == "" {
		if alg, err = DefaultAlgorithm(pub); err != nil {
			return nil, err
		}
	}
	return NewVerificationKey(alg, pub)
}

// MarshalPEMPrivateKey encodes the private key of k as PKCS#8 PEM
// ("PRIVATE KEY"), the one format that holds RSA, ECDSA and Ed25519 keys
// alike. HMAC and verify-only keys fail with ErrInvalidKey.
func MarshalPEMPrivateKey(k *Key) ([]byte, error) {
	if k == nil || k.fam == famHMAC {
		return nil, fmt.Errorf("%w: only asymmetric keys have a PEM form", ErrInvalidKey)
	}
	if k.priv == nil {
		return nil, fmt.Errorf("%w: verify-only key has no private key", ErrInvalidKey)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("%w: PKCS#8: %w", ErrInvalidKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPKCS8, Bytes: der}), nil
}

// MarshalPEMPublicKey encodes the public key of k as PKIX PEM
// ("PUBLIC KEY"). HMAC keys fail with ErrInvalidKey.
func MarshalPEMPublicKey(k *Key) ([]byte, error) {
	if k == nil || k.fam == famHMAC || k.pub == nil {
		return nil, fmt.Errorf("%w: only asymmetric keys have a PEM form", ErrInvalidKey)
	}
	der, err := x509.MarshalPKIXPublicKey(k.pub)
	if err != nil {
		return nil, fmt.Errorf("%w: PKIX: %w", ErrInvalidKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPKIX, Bytes: der}), nil
}

// GenerateKey returns a new random signing key for alg: an HMAC secret as
// long as the hash output for HS256/384/512 (the minimum NewHMACKey
// accepts, and all the strength HMAC can use), a 2048-bit RSA key for RS*
// and PS*, a key on the algorithm's curve for ES*, and an Ed25519 key for
// EdDSA.
//
// RSA keys are 2048 bits because generation is slow and 2048 is the
// RFC 7518 minimum; for a larger key call rsa.GenerateKey yourself and
// pass it to NewSigningKey.
func GenerateKey(alg Algorithm) (*Key, error) {
	fam, h := alg.info()
	switch fam {
	case famHMAC:
		secret := make([]byte, h.Size())
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		return NewHMACKey(alg, secret)
	case famRSA, famPSS:
		priv, err := rsa.GenerateKey(rand.Reader, generatedRSABits)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		return NewSigningKey(alg, priv)
	case famECDSA:
		priv, err := ecdsa.GenerateKey(curveFor(alg), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		return NewSigningKey(alg, priv)
	case famEdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		return NewSigningKey(alg, priv)
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupportedAlgorithm, algName(alg))
}
