package lpsim

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certValidity is how long the generated certificates are valid, from an hour before they were
// made (clocks of the client and the simulator may differ a little).
const certValidity = 30 * 24 * time.Hour

// caSubject names the CA a Server makes: how a CA file it wrote before is recognised.
var caSubject = pkix.Name{CommonName: "lpsim local CA", Organization: []string{"lpbench simulator"}}

// serverTLS is what a TLS Server holds: the configuration of its listeners, the CA certificate
// (PEM) that signed their certificate, the file it was written to, and the directory to remove at
// Close (when the file is in one the Server made).
type serverTLS struct {
	config *tls.Config
	caPEM  []byte
	caFile string
	tmpDir string
}

// newServerTLS makes a CA and a server certificate it signs, valid for localhost, 127.0.0.1, ::1
// and the listening host, and writes the CA certificate to caFile ("" = a file in a new temporary
// directory). Keys are ECDSA P-256: made in microseconds, verified by every TLS client.
func newServerTLS(listenHost, caFile string) (*serverTLS, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               caSubject,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "lpsim"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(listenHost); ip != nil && !ip.IsUnspecified() {
		leaf.IPAddresses = append(leaf.IPAddresses, ip)
	} else if listenHost != "" && ip == nil {
		leaf.DNSNames = append(leaf.DNSNames, listenHost)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	st := &serverTLS{
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		config: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey}},
			// HTTP/1.1 only, as the simulator's plain listeners: its faults (a connection reset
			// mid-body) are those of an HTTP/1 connection.
			NextProtos: []string{"http/1.1"},
		},
	}
	if err := st.writeCA(caFile); err != nil {
		return nil, err
	}
	return st, nil
}

// writeCA writes the CA certificate to file, or to lpsim-ca.pem in a new temporary directory.
func (st *serverTLS) writeCA(file string) error {
	if file == "" {
		dir, err := os.MkdirTemp("", "lpsim-tls-")
		if err != nil {
			return fmt.Errorf("lpsim: a directory for the CA certificate: %w", err)
		}
		st.tmpDir, file = dir, filepath.Join(dir, "lpsim-ca.pem")
	}
	if err := writeNewCA(file, st.caPEM); err != nil {
		st.remove()
		return err
	}
	st.caFile = file
	return nil
}

// CAFileError is a Config.TLSCAFile that names a file the simulator did not write: it is not
// overwritten, lest a CA bundle or any other file be lost.
type CAFileError struct {
	File string
}

func (e *CAFileError) Error() string {
	return fmt.Sprintf("%s exists and is not a CA certificate of the simulator: it is not overwritten (remove it, or name another file)", e.File)
}

// writeNewCA writes the CA certificate caPEM to file, which must not exist, or hold a CA
// certificate a simulator wrote there before (a restarted simulator writes its new one in its
// place); any other file is refused (*CAFileError).
func writeNewCA(file string, caPEM []byte) error {
	old, err := os.ReadFile(file)
	switch {
	case err == nil && !isSimCA(old):
		return &CAFileError{File: file}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("lpsim: the CA file: %w", err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if err != nil {
		flags |= os.O_EXCL // it did not exist: nor may it have appeared since
	}
	f, err := os.OpenFile(file, flags, 0o644)
	if err == nil {
		_, err = f.Write(caPEM)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("lpsim: writing the CA certificate: %w", err)
	}
	return nil
}

// isSimCA reports whether b is what writeCA writes: one PEM certificate, and nothing else, of a
// CA with the simulator's subject.
func isSimCA(b []byte) bool {
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) > 0 {
		return false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	return err == nil && cert.IsCA && cert.Subject.String() == caSubject.String()
}

// remove deletes the temporary directory of the CA file, if the Server made one.
func (st *serverTLS) remove() {
	if st != nil && st.tmpDir != "" {
		os.RemoveAll(st.tmpDir)
	}
}

// serial returns a random certificate serial number.
func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)) // never fails (crypto/rand panics instead)
	return n
}
