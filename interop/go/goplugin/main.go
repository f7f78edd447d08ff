// Command goplugin is a Docker volume plugin written the way go-plugins-helpers
// writes them, with nothing but net/http: the interop suite's reference plugin.
//
// It answers like the SDK does: JSON with Content-Type
// application/vnd.docker.plugins.v1.1+json, errors as 500 {"Err": "..."}, a
// request body that does not decode as 400 plain text, an unknown method as
// 404 plain text. It also answers Echo.Echo (its request body, for benchmarks)
// and Interop.Seen (the requests it saw, for assertions).
//
// Usage:
//
//	goplugin -unix PATH
//	goplugin -tcp ADDR [-cert FILE -key FILE]
//
// It prints one line, "listening ADDRESS", once it accepts connections, and
// serves until killed.
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

const contentType = "application/vnd.docker.plugins.v1.1+json"

// The SDK's volume types (go-plugins-helpers volume/api.go).
type createRequest struct {
	Name    string
	Options map[string]string `json:"Opts,omitempty"`
}

type nameRequest struct {
	Name string
}

type mountRequest struct {
	Name string
	ID   string
}

type mountpointResponse struct {
	Mountpoint string
}

type volume struct {
	Name       string
	Mountpoint string                 `json:",omitempty"`
	CreatedAt  string                 `json:",omitempty"`
	Status     map[string]interface{} `json:",omitempty"`
}

type getResponse struct {
	Volume *volume
}

type listResponse struct {
	Volumes []*volume
}

type capability struct {
	Scope string
}

type capabilitiesResponse struct {
	Capabilities capability
}

type errorResponse struct {
	Err string
}

// seen is one request as the plugin received it.
type seen struct {
	Method      string
	Accept      string
	UserAgent   string
	Host        string
	ContentType string
	Body        string
}

type plugin struct {
	mu      sync.Mutex
	volumes map[string]*volume
	seen    []seen
}

func encode(w http.ResponseWriter, res interface{}, failed bool) {
	w.Header().Set("Content-Type", contentType)
	if failed {
		w.WriteHeader(http.StatusInternalServerError)
	}
	json.NewEncoder(w).Encode(res)
}

func decode(w http.ResponseWriter, r *http.Request, req interface{}) error {
	err := json.NewDecoder(r.Body).Decode(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
	}
	return err
}

func fail(w http.ResponseWriter, format string, args ...interface{}) {
	encode(w, errorResponse{Err: fmt.Sprintf(format, args...)}, true)
}

// record keeps the request's headers and body, and puts the body back.
func (p *plugin) record(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, seen{
		Method:      r.URL.Path,
		Accept:      r.Header.Get("Accept"),
		UserAgent:   r.Header.Get("User-Agent"),
		Host:        r.Host,
		ContentType: r.Header.Get("Content-Type"),
		Body:        string(body),
	})
}

// volume is the named volume; if there is none, it answers the SDK's error
// and returns nil. The caller holds p.mu.
func (p *plugin) volume(w http.ResponseWriter, name string) *volume {
	v, ok := p.volumes[name]
	if !ok {
		fail(w, "no such volume: %s", name)
	}
	return v
}

func (p *plugin) handle(mux *http.ServeMux, path string, f func(http.ResponseWriter, *http.Request)) {
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		p.record(r)
		f(w, r)
	})
}

func (p *plugin) routes() *http.ServeMux {
	mux := http.NewServeMux()
	p.handle(mux, "/Plugin.Activate", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		fmt.Fprintln(w, `{"Implements": ["VolumeDriver", "Echo"]}`)
	})
	p.handle(mux, "/VolumeDriver.Create", func(w http.ResponseWriter, r *http.Request) {
		var req createRequest
		if decode(w, r, &req) != nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if _, ok := p.volumes[req.Name]; ok {
			fail(w, "volume %s already exists", req.Name)
			return
		}
		status := map[string]interface{}{}
		for k, v := range req.Options {
			status[k] = v
		}
		p.volumes[req.Name] = &volume{
			Name:      req.Name,
			CreatedAt: time.Now().UTC().Format(time.RFC3339),
			Status:    status,
		}
		encode(w, struct{}{}, false)
	})
	p.handle(mux, "/VolumeDriver.Remove", func(w http.ResponseWriter, r *http.Request) {
		var req nameRequest
		if decode(w, r, &req) != nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if _, ok := p.volumes[req.Name]; !ok {
			fail(w, "no such volume: %s", req.Name)
			return
		}
		delete(p.volumes, req.Name)
		encode(w, struct{}{}, false)
	})
	p.handle(mux, "/VolumeDriver.Path", func(w http.ResponseWriter, r *http.Request) {
		var req nameRequest
		if decode(w, r, &req) != nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		v := p.volume(w, req.Name)
		if v == nil {
			return
		}
		encode(w, mountpointResponse{Mountpoint: v.Mountpoint}, false)
	})
	p.handle(mux, "/VolumeDriver.Mount", func(w http.ResponseWriter, r *http.Request) {
		var req mountRequest
		if decode(w, r, &req) != nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		v := p.volume(w, req.Name)
		if v == nil {
			return
		}
		v.Mountpoint = "/var/lib/goplugin/" + req.Name
		encode(w, mountpointResponse{Mountpoint: v.Mountpoint}, false)
	})
	p.handle(mux, "/VolumeDriver.Unmount", func(w http.ResponseWriter, r *http.Request) {
		var req mountRequest
		if decode(w, r, &req) != nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		v := p.volume(w, req.Name)
		if v == nil {
			return
		}
		v.Mountpoint = ""
		encode(w, struct{}{}, false)
	})
	p.handle(mux, "/VolumeDriver.Get", func(w http.ResponseWriter, r *http.Request) {
		var req nameRequest
		if decode(w, r, &req) != nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		encode(w, getResponse{Volume: p.volumes[req.Name]}, false)
	})
	p.handle(mux, "/VolumeDriver.List", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		res := listResponse{Volumes: []*volume{}}
		for _, v := range p.volumes {
			res.Volumes = append(res.Volumes, v)
		}
		encode(w, res, false)
	})
	p.handle(mux, "/VolumeDriver.Capabilities", func(w http.ResponseWriter, r *http.Request) {
		encode(w, capabilitiesResponse{Capabilities: capability{Scope: "global"}}, false)
	})
	// Echo.Echo is not recorded: it is the benchmark's hot path.
	mux.HandleFunc("/Echo.Echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	})
	mux.HandleFunc("/Interop.Seen", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		encode(w, p.seen, false)
		p.seen = nil
	})
	return mux
}

func main() {
	unixPath := flag.String("unix", "", "serve on this unix socket")
	tcpAddr := flag.String("tcp", "", "serve on this TCP address")
	certFile := flag.String("cert", "", "TLS certificate (with -tcp)")
	keyFile := flag.String("key", "", "TLS key (with -tcp)")
	flag.Parse()

	var (
		listener net.Listener
		err      error
		address  string
	)
	switch {
	case *unixPath != "":
		os.Remove(*unixPath)
		listener, err = net.Listen("unix", *unixPath)
		address = "unix://" + *unixPath
	case *tcpAddr != "":
		listener, err = net.Listen("tcp", *tcpAddr)
		if err == nil {
			address = "tcp://" + listener.Addr().String()
		}
		if err == nil && *certFile != "" {
			var cert tls.Certificate
			cert, err = tls.LoadX509KeyPair(*certFile, *keyFile)
			if err == nil {
				listener = tls.NewListener(listener, &tls.Config{Certificates: []tls.Certificate{cert}})
				address = "https://" + listener.Addr().String()
			}
		}
	default:
		err = fmt.Errorf("give -unix PATH or -tcp ADDR")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "goplugin:", err)
		os.Exit(2)
	}
	p := &plugin{volumes: map[string]*volume{}}
	fmt.Println("listening", address)
	// The interop suite refuses this plugin's certificate on purpose; the
	// handshake errors it logs would only be noise.
	server := &http.Server{Handler: p.routes(), ErrorLog: log.New(io.Discard, "", 0)}
	if err := server.Serve(listener); err != nil {
		fmt.Fprintln(os.Stderr, "goplugin:", err)
		os.Exit(1)
	}
}
