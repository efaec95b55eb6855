// goverify connects to a TLS server and verifies its certificate the way flytectl's
// gRPC channel does with admin.caCertFilePath: crypto/tls and crypto/x509 with a root
// pool holding only that file. It prints "OK" or the error Go reports.
//
// Usage: goverify ADDR SERVER_NAME CA_FILE [RFC3339_TIME]
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: goverify ADDR SERVER_NAME CA_FILE [RFC3339_TIME]")
		os.Exit(2)
	}
	addr, serverName, caFile := os.Args[1], os.Args[2], os.Args[3]
	pem, err := os.ReadFile(caFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	config := &tls.Config{ServerName: serverName, RootCAs: pool, NextProtos: []string{"h2"}}
	if len(os.Args) > 4 {
		at, err := time.Parse(time.RFC3339, os.Args[4])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		config.Time = func() time.Time { return at }
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, config)
	if err != nil {
		fmt.Println(err.Error())
		return
	}
	conn.Close()
	fmt.Println("OK")
}
