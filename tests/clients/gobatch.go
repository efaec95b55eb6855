// gobatch verifies many TLS servers the way flytectl's gRPC channel does with
// admin.caCertFilePath (goverify.go, one process for all cases): crypto/tls and
// crypto/x509 with a root pool holding only that file, ALPN h2.
//
// stdin:  JSON lines {"id","addr","server_name","ca_file"}
// stdout: JSON lines {"id","result"}: "OK" or err.Error() exactly as Go returns it.
// A dial that times out is tried once more (the machine may be busy) and then
// reported as "ERROR: ...", which the harness treats as its own failure.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

type request struct {
	ID         string `json:"id"`
	Addr       string `json:"addr"`
	ServerName string `json:"server_name"`
	CAFile     string `json:"ca_file"`
}

type response struct {
	ID     string `json:"id"`
	Result string `json:"result"`
}

func verify(r request) string {
	// GOBATCH_SYSTEM_ROOTS=1: no caCertFilePath, the OS store (SSL_CERT_FILE/SSL_CERT_DIR)
	// as flytectl's channels use it then; one process per CA, as Go reads it once.
	var pool *x509.CertPool
	if os.Getenv("GOBATCH_SYSTEM_ROOTS") != "1" {
		pem, err := os.ReadFile(r.CAFile)
		if err != nil {
			return "ERROR: " + err.Error()
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			// flytectl reads caCertFilePath with flyteidl's readCACerts (clients/go/admin),
			// whose "due to %v" formats the nil read error.
			return fmt.Sprintf("failed to parse root certificate file %v due to %v", r.CAFile, error(nil))
		}
	}
	config := &tls.Config{ServerName: r.ServerName, RootCAs: pool, NextProtos: []string{"h2"}}
	for attempt := 0; ; attempt++ {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", r.Addr, config)
		if err == nil {
			conn.Close()
			return "OK"
		}
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			if attempt == 0 {
				continue
			}
			return "ERROR: " + err.Error()
		}
		return err.Error()
	}
}

func main() {
	var requests []request
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		var r request
		if err := json.Unmarshal(scanner.Bytes(), &r); err != nil {
			fmt.Fprintln(os.Stderr, "bad request:", err)
			os.Exit(2)
		}
		requests = append(requests, r)
	}
	var mu sync.Mutex
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	// A few dials at a time: enough to overlap round trips on a 2-core machine.
	slots := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, r := range requests {
		wg.Add(1)
		slots <- struct{}{}
		go func(r request) {
			defer wg.Done()
			result := verify(r)
			<-slots
			mu.Lock()
			defer mu.Unlock()
			out.Encode(response{ID: r.ID, Result: result})
		}(r)
	}
	wg.Wait()
}
