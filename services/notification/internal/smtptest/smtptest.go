// Package smtptest is a small real SMTP server for tests, which answers
// each command as the test says: the replies a real mail server gives
// rarely (451 try later, 550 no such mailbox, a greeting of 421, a
// connection dropped after the message was accepted) and that mailpit, the
// project's test mail server, never gives.
package smtptest

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
)

// Replies are the server's answers, each a full reply line such as "550
// 5.1.1 no such mailbox"; an empty one is the usual success.
type Replies struct {
	// Greeting is sent on connection; "220 smtptest" when empty.
	Greeting string
	// Mail answers MAIL FROM, Rcpt RCPT TO, Data DATA (354 to go on) and
	// DataEnd the end of the message.
	Mail, Rcpt, Data, DataEnd string
	// Silent accepts connections and never says anything, like a server
	// that hangs.
	Silent bool
	// DropAfterData closes the connection right after the reply to the end
	// of the message, so that the client's RSET and QUIT fail although
	// the message was accepted.
	DropAfterData bool
	// Hangup closes each connection as soon as it is accepted.
	Hangup bool
	// CutTLS offers STARTTLS, agrees to it and then closes the connection,
	// so that the client's TLS handshake is cut short.
	CutTLS bool
}

// Server answers SMTP on Addr until Close or the end of the test.
type Server struct {
	// Addr is where it listens, host:port.
	Addr string

	replies Replies
	ln      net.Listener
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]bool
	// accepted counts messages whose end got a 2xx reply.
	accepted int
}

// Start listens on addr ("127.0.0.1:0" for any free port) and serves until
// the test ends.
func Start(t testing.TB, addr string, replies Replies) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), replies: replies, ln: ln, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// Close stops listening, ends every connection and waits for them.
func (s *Server) Close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Accepted is how many messages the server accepted.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				_ = c.Close()
			}()
			s.talk(c)
		}()
	}
}

func or(reply, usual string) string {
	if reply == "" {
		return usual
	}
	return reply
}

// talk holds one SMTP conversation.
func (s *Server) talk(c net.Conn) {
	r := s.replies
	if r.Hangup {
		return
	}
	if r.Silent {
		_, _ = bufio.NewReader(c).ReadString(0) // until the client gives up
		return
	}
	in := bufio.NewReader(c)
	say := func(line string) bool {
		_, err := c.Write([]byte(line + "\r\n"))
		return err == nil
	}
	greeting := or(r.Greeting, "220 smtptest")
	if !say(greeting) || !strings.HasPrefix(greeting, "2") {
		return
	}
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.TrimSpace(line))
		if i := strings.IndexAny(verb, " :"); i >= 0 {
			verb = verb[:i]
		}
		var reply string
		switch verb {
		case "EHLO", "HELO":
			reply = "250 smtptest"
			if r.CutTLS {
				reply = "250-smtptest\r\n250 STARTTLS"
			}
		case "STARTTLS":
			say("220 go ahead")
			return
		case "MAIL":
			reply = or(r.Mail, "250 sender ok")
		case "RCPT":
			reply = or(r.Rcpt, "250 recipient ok")
		case "DATA":
			reply = or(r.Data, "354 go ahead")
			if !say(reply) {
				return
			}
			if !strings.HasPrefix(reply, "3") {
				continue
			}
			for {
				l, err := in.ReadString('\n')
				if err != nil {
					return
				}
				if strings.TrimRight(l, "\r\n") == "." {
					break
				}
			}
			end := or(r.DataEnd, "250 accepted")
			if strings.HasPrefix(end, "2") {
				s.mu.Lock()
				s.accepted++
				s.mu.Unlock()
			}
			if !say(end) || r.DropAfterData {
				return
			}
			continue
		case "RSET", "NOOP":
			reply = "250 ok"
		case "QUIT":
			say("221 bye")
			return
		default:
			reply = "502 not implemented"
		}
		if !say(reply) {
			return
		}
	}
}
