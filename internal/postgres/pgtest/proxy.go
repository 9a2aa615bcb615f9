package pgtest

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards a loopback port to a PostgreSQL server, so that a test
// can break the network between jwtgate and the database in the two ways
// that behave differently:
//
//   - Cut closes the port and every connection through it, as a database
//     or route that went away: connections end without the server's
//     goodbye and new ones are refused. Restore listens on the same port
//     again.
//   - Freeze keeps every socket open and accepts new connections, but
//     forwards no byte either way, as a network partition or a hung
//     server does (no RST, no FIN, just silence). Bytes read meanwhile are
//     held and delivered after Unfreeze, as TCP would retransmit them.
//
// A real server shutdown needs a private cluster instead (see
// cmd/jwtgate's TestPostgresStopped).
type Proxy struct {
	t      testing.TB
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener // nil while cut
	conns map[net.Conn]bool
	thaw  chan struct{} // non-nil while frozen; closed by Unfreeze
	gone  chan struct{} // closed at the test's end
}

// NewProxy starts a proxy to target (host:port) on a free loopback port;
// it is torn down when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{t: t, target: target, conns: map[net.Conn]bool{}, gone: make(chan struct{})}
	p.listen("127.0.0.1:0")
	p.addr = p.ln.Addr().String()
	t.Cleanup(func() {
		close(p.gone) // releases copies held by a freeze
		p.Cut()
	})
	return p
}

// Addr is the proxy's host:port, to put in place of the server's.
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) listen(addr string) {
	var ln net.Listener
	var err error
	for range 50 { // on Restore the port was just released; retry briefly
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy listen %s: %v", addr, err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *Proxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go p.copy(up, c)
	p.copy(c, up)
}

// copy forwards src to dst, holding each chunk while the proxy is frozen.
func (p *Proxy) copy(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.gate() {
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// gate waits while the proxy is frozen; false if the test ended meanwhile.
func (p *Proxy) gate() bool {
	p.mu.Lock()
	thaw := p.thaw
	p.mu.Unlock()
	if thaw == nil {
		return true
	}
	select {
	case <-thaw:
		return true
	case <-p.gone:
		return false
	}
}

// Cut closes the port and every connection through it.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Restore listens on the proxy's port again after Cut.
func (p *Proxy) Restore() { p.listen(p.addr) }

// Freeze stops every byte, keeping the connections open.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.thaw == nil {
		p.thaw = make(chan struct{})
	}
}

// Unfreeze delivers what was held and lets bytes through again.
func (p *Proxy) Unfreeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.thaw != nil {
		close(p.thaw)
		p.thaw = nil
	}
}
