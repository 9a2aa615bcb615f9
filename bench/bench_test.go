package bench

// Run with ./run.sh, or:
//
//	go test -run '^$' -bench . -benchmem -count 5 -cpu 1

import (
	"testing"

	"github.com/jwtgate/jwtgate/jwt"
)

func benchVerify(b *testing.B, tok string, cases []verifyCase) {
	for _, vc := range cases {
		b.Run(vc.name, func(b *testing.B) {
			run, _ := vc.setup(b, tok)
			b.ReportAllocs()
			for b.Loop() {
				if err := run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyHS256: verify the shared HS256 token, check iss, aud and
// exp, and decode the claims into a struct.
func BenchmarkVerifyHS256(b *testing.B) {
	benchVerify(b, signGate(b, keys().hs, nil), hsVerifyCases)
}

func BenchmarkVerifyEdDSA(b *testing.B) {
	benchVerify(b, signGate(b, keys().gate[jwt.EdDSA], nil), asymVerifyCases(jwt.EdDSA))
}

func BenchmarkVerifyES256(b *testing.B) {
	benchVerify(b, signGate(b, keys().gate[jwt.ES256], nil), asymVerifyCases(jwt.ES256))
}

func BenchmarkVerifyRS256(b *testing.B) {
	benchVerify(b, signGate(b, keys().gate[jwt.RS256], nil), asymVerifyCases(jwt.RS256))
}

// BenchmarkSignHS256: sign the shared claims with the shared secret.
func BenchmarkSignHS256(b *testing.B) {
	for _, sc := range hsSignCases {
		b.Run(sc.name, func(b *testing.B) {
			run, _ := sc.setup(b)
			b.ReportAllocs()
			for b.Loop() {
				if err := run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
