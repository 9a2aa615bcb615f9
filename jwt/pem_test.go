package jwt

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func pemEncode(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// pemTestCert returns a self-signed certificate for priv, as PEM.
func pemTestCert(t *testing.T, priv crypto.Signer) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "jwt test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	return pemEncode("CERTIFICATE", der)
}

// pemTestSigners returns the shared test keys with their natural algorithm.
func pemTestSigners(t *testing.T) map[Algorithm]crypto.Signer {
	t.Helper()
	m, err := jwkTestMaterial()
	if err != nil {
		t.Fatal(err)
	}
	return map[Algorithm]crypto.Signer{RS256: m["RSA"], ES256: m["P-256"], ES384: m["P-384"], ES512: m["P-521"], EdDSA: m["Ed25519"]}
}

func TestPEMPrivateKeyForms(t *testing.T) {
	type form struct {
		name string
		pem  []byte
	}
	for alg, priv := range pemTestSigners(t) {
		pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		forms := []form{{"PKCS#8", pemEncode("PRIVATE KEY", pkcs8)}}
		switch p := priv.(type) {
		case *rsa.PrivateKey:
			forms = append(forms, form{"PKCS#1", pemEncode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(p))})
		case *ecdsa.PrivateKey:
			sec1, err := x509.MarshalECPrivateKey(p)
			if err != nil {
				t.Fatal(err)
			}
			oid := map[Algorithm]asn1.ObjectIdentifier{ES256: {1, 2, 840, 10045, 3, 1, 7}, ES384: {1, 3, 132, 0, 34}, ES512: {1, 3, 132, 0, 35}}[alg]
			params, err := asn1.Marshal(oid)
			if err != nil {
				t.Fatal(err)
			}
			forms = append(forms,
				form{"SEC1", pemEncode("EC PRIVATE KEY", sec1)},
				// As written by "openssl ecparam -genkey".
				form{"SEC1 after EC PARAMETERS", append(pemEncode("EC PARAMETERS", params), pemEncode("EC PRIVATE KEY", sec1)...)},
			)
		}
		for _, f := range forms {
			t.Run(string(alg)+"/"+f.name, func(t *testing.T) {
				got, err := ParsePEMPrivateKey(append([]byte("leading text\n"), f.pem...))
				if err != nil {
					t.Fatal(err)
				}
				type privEqualer interface{ Equal(crypto.PrivateKey) bool }
				if !priv.(privEqualer).Equal(got) {
					t.Fatal("parsed key differs")
				}
				k, err := ParsePEMKey(f.pem, "")
				if err != nil {
					t.Fatal(err)
				}
				if k.Algorithm() != alg || !k.CanSign() {
					t.Fatalf("ParsePEMKey: alg %s CanSign %v, want %s true", k.Algorithm(), k.CanSign(), alg)
				}
				if _, err := ParsePEMPublicKey(f.pem); !errors.Is(err, ErrInvalidKey) {
					t.Errorf("ParsePEMPublicKey(private) = %v, want ErrInvalidKey", err)
				}
			})
		}
	}
}

func TestPEMPublicKeyForms(t *testing.T) {
	type form struct {
		name string
		pem  []byte
	}
	for alg, priv := range pemTestSigners(t) {
		spki, err := x509.MarshalPKIXPublicKey(priv.Public())
		if err != nil {
			t.Fatal(err)
		}
		forms := []form{{"PKIX", pemEncode("PUBLIC KEY", spki)}, {"certificate", pemTestCert(t, priv)}}
		if p, ok := priv.Public().(*rsa.PublicKey); ok {
			forms = append(forms, form{"PKCS#1", pemEncode("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(p))})
		}
		for _, f := range forms {
			t.Run(string(alg)+"/"+f.name, func(t *testing.T) {
				got, err := ParsePEMPublicKey(f.pem)
				if err != nil {
					t.Fatal(err)
				}
				type equaler interface{ Equal(crypto.PublicKey) bool }
				if !priv.Public().(equaler).Equal(got) {
					t.Fatal("parsed key differs")
				}
				k, err := ParsePEMKey(f.pem, "")
				if err != nil {
					t.Fatal(err)
				}
				if k.Algorithm() != alg || k.CanSign() {
					t.Fatalf("ParsePEMKey: alg %s CanSign %v, want %s false", k.Algorithm(), k.CanSign(), alg)
				}
				if _, err := ParsePEMPrivateKey(f.pem); !errors.Is(err, ErrInvalidKey) {
					t.Errorf("ParsePEMPrivateKey(public) = %v, want ErrInvalidKey", err)
				}
			})
		}
	}
}

func TestPEMKeyExplicitAlgorithm(t *testing.T) {
	s := pemTestSigners(t)
	privPEM := func(alg Algorithm) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(s[alg])
		if err != nil {
			t.Fatal(err)
		}
		return pemEncode("PRIVATE KEY", der)
	}
	for _, alg := range []Algorithm{PS256, PS384, PS512, RS384, RS512} {
		k, err := ParsePEMKey(privPEM(RS256), alg)
		if err != nil || k.Algorithm() != alg {
			t.Errorf("RSA key as %s: %v", alg, err)
		}
	}
	tests := []struct {
		name string
		key  Algorithm
		alg  Algorithm
		want error
	}{
		{"P-256 as ES384", ES256, ES384, ErrWeakKey},
		{"P-384 as ES256", ES384, ES256, ErrWeakKey},
		{"RSA as ES256", RS256, ES256, ErrInvalidKey},
		{"Ed25519 as RS256", EdDSA, RS256, ErrInvalidKey},
		{"RSA as HS256", RS256, HS256, ErrInvalidKey},
		{"unknown alg", EdDSA, "none", ErrUnsupportedAlgorithm},
	}
	for _, tc := range tests {
		if _, err := ParsePEMKey(privPEM(tc.key), tc.alg); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestPEMRefusesEncrypted(t *testing.T) {
	der, err := x509.MarshalPKCS8PrivateKey(pemTestSigners(t)[ES256])
	if err != nil {
		t.Fatal(err)
	}
	legacy := pem.EncodeToMemory(&pem.Block{
		Type:    "EC PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   der, // content is irrelevant: the header alone must refuse it
	})
	pkcs8 := pemEncode("ENCRYPTED PRIVATE KEY", der)
	for name, data := range map[string][]byte{"legacy": legacy, "PKCS#8": pkcs8} {
		if _, err := ParsePEMPrivateKey(data); !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), "encrypted") {
			t.Errorf("%s: ParsePEMPrivateKey = %v, want ErrInvalidKey about encryption", name, err)
		}
		if _, err := ParsePEMKey(data, ""); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: ParsePEMKey = %v, want ErrInvalidKey", name, err)
		}
	}
}

func TestPEMGarbage(t *testing.T) {
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	xPriv, err := x509.MarshalPKCS8PrivateKey(x)
	if err != nil {
		t.Fatal(err)
	}
	xPub, err := x509.MarshalPKIXPublicKey(x.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	junk := bytes.Repeat([]byte("not a key "), 8)
	tests := map[string][]byte{
		"empty":                nil,
		"text":                 []byte("hello"),
		"DER without PEM":      xPriv,
		"only EC PARAMETERS":   pemEncode("EC PARAMETERS", []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}),
		"junk PKCS#8":          pemEncode("PRIVATE KEY", junk),
		"junk PKCS#1":          pemEncode("RSA PRIVATE KEY", junk),
		"junk SEC1":            pemEncode("EC PRIVATE KEY", junk),
		"junk PKIX":            pemEncode("PUBLIC KEY", junk),
		"junk PKCS#1 public":   pemEncode("RSA PUBLIC KEY", junk),
		"junk certificate":     pemEncode("CERTIFICATE", junk),
		"unknown type":         pemEncode("OPENSSH PRIVATE KEY", junk),
		"X25519 private":       pemEncode("PRIVATE KEY", xPriv),
		"X25519 public":        pemEncode("PUBLIC KEY", xPub),
		"PKCS#8 labelled SEC1": pemEncode("EC PRIVATE KEY", xPriv),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParsePEMKey(data, ""); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("ParsePEMKey = %v, want ErrInvalidKey", err)
			} else if strings.Contains(err.Error(), "not a key") {
				t.Errorf("error echoes key bytes: %v", err)
			}
			if _, err := ParsePEMPrivateKey(data); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("ParsePEMPrivateKey = %v, want ErrInvalidKey", err)
			}
			if _, err := ParsePEMPublicKey(data); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("ParsePEMPublicKey = %v, want ErrInvalidKey", err)
			}
		})
	}
}

func TestPEMRSA1024IsWeak(t *testing.T) {
	r, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&r.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"private": pemEncode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(r)),
		"public":  pemEncode("PUBLIC KEY", pub),
	} {
		if _, err := ParsePEMKey(data, ""); !errors.Is(err, ErrWeakKey) {
			t.Errorf("%s: %v, want ErrWeakKey", name, err)
		}
	}
}

func TestPEMMarshalRoundTrip(t *testing.T) {
	for _, alg := range Algorithms() {
		k := jwkTestSigner(t, alg)
		if alg.IsHMAC() {
			if _, err := MarshalPEMPrivateKey(k); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("%s: MarshalPEMPrivateKey = %v, want ErrInvalidKey", alg, err)
			}
			if _, err := MarshalPEMPublicKey(k); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("%s: MarshalPEMPublicKey = %v, want ErrInvalidKey", alg, err)
			}
			continue
		}
		t.Run(string(alg), func(t *testing.T) {
			priv, err := MarshalPEMPrivateKey(k)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := pem.Decode(priv); b == nil || b.Type != "PRIVATE KEY" {
				t.Fatalf("private PEM is not PKCS#8:\n%s", priv)
			}
			back, err := ParsePEMKey(priv, alg)
			if err != nil {
				t.Fatal(err)
			}
			jwkSameKey(t, k.WithKeyID(""), back)

			pub, err := MarshalPEMPublicKey(k)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := pem.Decode(pub); b == nil || b.Type != "PUBLIC KEY" {
				t.Fatalf("public PEM is not PKIX:\n%s", pub)
			}
			pk, err := ParsePEMKey(pub, alg)
			if err != nil {
				t.Fatal(err)
			}
			jwkSameKey(t, k.Public().WithKeyID(""), pk)
			if _, err := MarshalPEMPrivateKey(pk); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("MarshalPEMPrivateKey(verify-only) = %v, want ErrInvalidKey", err)
			}
		})
	}
}

func TestJWKGenerateKey(t *testing.T) {
	for _, alg := range Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k, err := GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm() != alg || !k.CanSign() || k.KeyID() != "" {
				t.Fatalf("alg %s CanSign %v kid %q", k.Algorithm(), k.CanSign(), k.KeyID())
			}
			_, h := alg.info()
			switch p := k.priv.(type) {
			case nil:
				if len(k.secret) != h.Size() {
					t.Errorf("secret has %d bytes, want %d", len(k.secret), h.Size())
				}
				k2, err := GenerateKey(alg)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(k.secret, k2.secret) {
					t.Error("two generated secrets are equal")
				}
			case *rsa.PrivateKey:
				if p.N.BitLen() != 2048 {
					t.Errorf("RSA key has %d bits", p.N.BitLen())
				}
			case *ecdsa.PrivateKey:
				if p.Curve != curveFor(alg) {
					t.Errorf("curve %s", p.Curve.Params().Name)
				}
			case ed25519.PrivateKey:
			default:
				t.Errorf("unexpected key type %T", p)
			}
		})
	}
	for _, alg := range []Algorithm{"", "none", "HS1", "ES256K"} {
		if _, err := GenerateKey(alg); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("GenerateKey(%q) = %v, want ErrUnsupportedAlgorithm", alg, err)
		}
	}
}
