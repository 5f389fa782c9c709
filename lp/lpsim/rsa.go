package lpsim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strings"
	"sync"
)

// rsaKey is the RSA key of every Sim of the process, made at the first use: a 2048-bit key takes
// tens of milliseconds to generate, and tests make hundreds of Sims. Each Sim has its own key id,
// which its tokens' header names and which the signature covers, so a token of another Sim never
// verifies all the same.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil { // crypto/rand does not fail
		panic("lpsim: generating the RSA key: " + err.Error())
	}
	return k
})

// rsaSigner issues and verifies RS256 compact JWS tokens, as Sentinel signs AppJWTs: the header
// is {"kid":KID,"typ":"JWT","alg":"RS256"} (fixtures/appjwt-response.json), and the public key is
// published under kid at /sentinel/well-known/jwks.
type rsaSigner struct {
	kid    string
	header string // the encoded header, the only one this signer signs
	key    *rsa.PrivateKey
}

func newRSASigner() *rsaSigner {
	id := make([]byte, 6)
	rand.Read(id) // never fails (crypto/rand panics instead)
	kid := "appjwt-lpsim-" + hex.EncodeToString(id)
	h, err := json.Marshal(struct {
		Kid string `json:"kid"`
		Typ string `json:"typ"`
		Alg string `json:"alg"`
	}{kid, "JWT", "RS256"})
	if err != nil { // strings only: cannot happen
		panic(err)
	}
	return &rsaSigner{kid: kid, header: b64.EncodeToString(h), key: rsaKey()}
}

func (s *rsaSigner) sign(payload []byte) string {
	input := s.header + "." + b64.EncodeToString(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, sum[:])
	if err != nil { // a valid key and hash: cannot happen
		panic("lpsim: signing: " + err.Error())
	}
	return input + "." + b64.EncodeToString(sig)
}

func (s *rsaSigner) verify(token string, claims any) bool {
	head, rest, ok := strings.Cut(token, ".")
	if !ok || head != s.header {
		return false
	}
	payload, enc, ok := strings.Cut(rest, ".")
	if !ok || len(enc) != b64.EncodedLen(s.key.Size()) {
		return false
	}
	sig, err := b64.DecodeString(enc)
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(token[:len(head)+1+len(payload)]))
	if rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return false
	}
	p, err := b64.DecodeString(payload)
	return err == nil && json.Unmarshal(p, claims) == nil
}

// jwk is one key of a JSON Web Key Set (RFC 7517): an RSA public key for RS256 signatures.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// jwks returns the key set that verifies the signer's tokens: {"keys":[…]}.
func (s *rsaSigner) jwks() []byte {
	pub := s.key.PublicKey
	b, err := json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{[]jwk{{
		Kty: "RSA", Kid: s.kid, Use: "sig", Alg: "RS256",
		N: b64.EncodeToString(pub.N.Bytes()), E: b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
	if err != nil { // strings only: cannot happen
		panic(err)
	}
	return b
}
