// Command dockerhost drives plugins exactly as the Docker engine does, through
// Docker's own client package github.com/docker/docker/pkg/plugins: NewClient
// and Call for activation and calls, plugins.Get and GetAll for discovery, and
// the engine's VolumeDriver and IpamDriver request and response types (copied
// from moby's volume/drivers/proxy.go and libnetwork/ipams/remote/api, which
// Debian does not package).
//
// Usage:
//
//	dockerhost script   < one JSON operation per line; one JSON result per line
//	dockerhost bench -addr URL -method M [-body JSON] [-n N] [-c C] [-warmup W]
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/docker/pkg/plugins"
	"github.com/docker/go-connections/tlsconfig"
)

// The engine's timeouts for volume calls (moby volume/drivers/proxy.go).
const (
	longTimeout  = 2 * time.Minute
	shortTimeout = 1 * time.Minute
)

// The engine's volume proxy types (moby volume/drivers/proxy.go, adapter.go).
type volumeCreateRequest struct {
	Name string
	Opts map[string]string
}

type volumeNameRequest struct {
	Name string
}

type volumeMountRequest struct {
	Name string
	ID   string
}

type volumeErrResponse struct {
	Err string
}

type volumeMountpointResponse struct {
	Mountpoint string
	Err        string
}

type volumeListRequest struct{}

type proxyVolume struct {
	Name       string
	Mountpoint string
	CreatedAt  time.Time
	Status     map[string]interface{}
}

type volumeListResponse struct {
	Volumes []*proxyVolume
	Err     string
}

type volumeGetResponse struct {
	Volume *proxyVolume
	Err    string
}

type volumeCapabilitiesRequest struct{}

type volumeCapability struct {
	Scope string
}

type volumeCapabilitiesResponse struct {
	Capabilities volumeCapability
	Err          string
}

// The engine's IPAM types (libnetwork/ipams/remote/api/api.go).
type ipamResponse struct {
	Error string
}

func (r *ipamResponse) IsSuccess() bool  { return r.Error == "" }
func (r *ipamResponse) GetError() string { return r.Error }

type ipamPluginResponse interface {
	IsSuccess() bool
	GetError() string
}

type ipamCapabilityResponse struct {
	ipamResponse
	RequiresMACAddress    bool
	RequiresRequestReplay bool
}

type ipamAddressSpacesResponse struct {
	ipamResponse
	LocalDefaultAddressSpace  string
	GlobalDefaultAddressSpace string
}

type ipamRequestPoolRequest struct {
	AddressSpace string
	Pool         string
	SubPool      string
	Options      map[string]string
	V6           bool
}

type ipamRequestPoolResponse struct {
	ipamResponse
	PoolID string
	Pool   string
	Data   map[string]string
}

type ipamReleasePoolRequest struct {
	PoolID string
}

type ipamRequestAddressRequest struct {
	PoolID  string
	Address string
	Options map[string]string
}

type ipamRequestAddressResponse struct {
	ipamResponse
	Address string
	Data    map[string]string
}

type ipamReleaseAddressRequest struct {
	PoolID  string
	Address string
}

type ipamEmptyResponse struct {
	ipamResponse
}

// op is one line of a script.
type op struct {
	Op      string
	Addr    string
	CA      string
	Name    string
	Iface   string
	Method  string
	Args    json.RawMessage
	Raw     *string
	ID      string
	Opts    map[string]string
	Pool    ipamRequestPoolRequest
	PoolID  string
	Address string
}

// result is one line of output.
type result struct {
	OK       bool        `json:"ok"`
	Value    interface{} `json:"value,omitempty"`
	Error    string      `json:"error,omitempty"`
	NotFound bool        `json:"not_found,omitempty"`
}

type host struct {
	client *plugins.Client
}

func tlsOptions(ca string) *tlsconfig.Options {
	if ca == "" {
		return nil
	}
	return &tlsconfig.Options{CAFile: ca}
}

// ipamCall is the engine's remote IPAM allocator's call.
func (h *host) ipamCall(method string, arg interface{}, ret ipamPluginResponse) error {
	if err := h.client.Call("IpamDriver."+method, arg, ret); err != nil {
		return err
	}
	if !ret.IsSuccess() {
		return fmt.Errorf("remote: %s", ret.GetError())
	}
	return nil
}

func volumeError(err error, message string) error {
	if err != nil {
		return err
	}
	if message != "" {
		return errors.New(message)
	}
	return nil
}

func (h *host) run(o op) (interface{}, error) {
	if h.client == nil && o.Op != "connect" && o.Op != "get" && o.Op != "getall" {
		return nil, errors.New("no plugin: connect or get first")
	}
	switch o.Op {
	case "connect":
		client, err := plugins.NewClient(o.Addr, tlsOptions(o.CA))
		if err != nil {
			return nil, err
		}
		h.client = client
		return nil, nil
	case "get":
		p, err := plugins.Get(o.Name, o.Iface)
		if err != nil {
			return nil, err
		}
		h.client = p.Client()
		return map[string]interface{}{"Name": p.Name(), "Addr": p.Addr, "Implements": p.Manifest.Implements}, nil
	case "getall":
		all, err := plugins.GetAll(o.Iface)
		if err != nil {
			return nil, err
		}
		names := []string{}
		for _, p := range all {
			names = append(names, p.Name())
		}
		sort.Strings(names)
		return names, nil
	case "call":
		var answer json.RawMessage
		var err error
		switch {
		case o.Raw != nil:
			err = h.client.SendFile(o.Method, strings.NewReader(*o.Raw), &answer)
		case o.Args != nil:
			err = h.client.Call(o.Method, o.Args, &answer)
		default:
			err = h.client.Call(o.Method, nil, &answer)
		}
		return answer, err
	case "volume.create":
		var ret volumeErrResponse
		err := h.client.CallWithOptions("VolumeDriver.Create", volumeCreateRequest{Name: o.Name, Opts: o.Opts}, &ret, plugins.WithRequestTimeout(longTimeout))
		return nil, volumeError(err, ret.Err)
	case "volume.remove":
		var ret volumeErrResponse
		err := h.client.CallWithOptions("VolumeDriver.Remove", volumeNameRequest{Name: o.Name}, &ret, plugins.WithRequestTimeout(shortTimeout))
		return nil, volumeError(err, ret.Err)
	case "volume.path":
		var ret volumeMountpointResponse
		err := h.client.CallWithOptions("VolumeDriver.Path", volumeNameRequest{Name: o.Name}, &ret, plugins.WithRequestTimeout(shortTimeout))
		return ret.Mountpoint, volumeError(err, ret.Err)
	case "volume.mount":
		var ret volumeMountpointResponse
		err := h.client.CallWithOptions("VolumeDriver.Mount", volumeMountRequest{Name: o.Name, ID: o.ID}, &ret, plugins.WithRequestTimeout(longTimeout))
		return ret.Mountpoint, volumeError(err, ret.Err)
	case "volume.unmount":
		var ret volumeErrResponse
		err := h.client.CallWithOptions("VolumeDriver.Unmount", volumeMountRequest{Name: o.Name, ID: o.ID}, &ret, plugins.WithRequestTimeout(shortTimeout))
		return nil, volumeError(err, ret.Err)
	case "volume.list":
		var ret volumeListResponse
		err := h.client.CallWithOptions("VolumeDriver.List", volumeListRequest{}, &ret, plugins.WithRequestTimeout(shortTimeout))
		if err = volumeError(err, ret.Err); err != nil {
			return nil, err
		}
		// The engine uses only the name and the mountpoint of a listed volume.
		listed := []map[string]string{}
		for _, v := range ret.Volumes {
			listed = append(listed, map[string]string{"Name": v.Name, "Mountpoint": v.Mountpoint})
		}
		sort.Slice(listed, func(i, j int) bool { return listed[i]["Name"] < listed[j]["Name"] })
		return listed, nil
	case "volume.get":
		var ret volumeGetResponse
		err := h.client.CallWithOptions("VolumeDriver.Get", volumeNameRequest{Name: o.Name}, &ret, plugins.WithRequestTimeout(shortTimeout))
		if err = volumeError(err, ret.Err); err != nil {
			return nil, err
		}
		if ret.Volume == nil {
			// The engine's adapter: no volume and no error.
			return nil, errors.New("no such volume")
		}
		v := ret.Volume
		return map[string]interface{}{
			"Name":       v.Name,
			"Mountpoint": v.Mountpoint,
			"CreatedAt":  v.CreatedAt.Format(time.RFC3339),
			"Status":     v.Status,
		}, nil
	case "volume.capabilities":
		var ret volumeCapabilitiesResponse
		err := h.client.CallWithOptions("VolumeDriver.Capabilities", volumeCapabilitiesRequest{}, &ret, plugins.WithRequestTimeout(shortTimeout))
		return ret.Capabilities.Scope, volumeError(err, ret.Err)
	case "ipam.capabilities":
		var ret ipamCapabilityResponse
		err := h.ipamCall("GetCapabilities", nil, &ret)
		return map[string]bool{"RequiresMACAddress": ret.RequiresMACAddress, "RequiresRequestReplay": ret.RequiresRequestReplay}, err
	case "ipam.address_spaces":
		var ret ipamAddressSpacesResponse
		err := h.ipamCall("GetDefaultAddressSpaces", nil, &ret)
		return []string{ret.LocalDefaultAddressSpace, ret.GlobalDefaultAddressSpace}, err
	case "ipam.request_pool":
		var ret ipamRequestPoolResponse
		err := h.ipamCall("RequestPool", &o.Pool, &ret)
		return map[string]interface{}{"PoolID": ret.PoolID, "Pool": ret.Pool, "Data": ret.Data}, err
	case "ipam.release_pool":
		var ret ipamEmptyResponse
		return nil, h.ipamCall("ReleasePool", &ipamReleasePoolRequest{PoolID: o.PoolID}, &ret)
	case "ipam.request_address":
		var ret ipamRequestAddressResponse
		err := h.ipamCall("RequestAddress", &ipamRequestAddressRequest{PoolID: o.PoolID, Address: o.Address, Options: o.Opts}, &ret)
		if err == nil && ret.Address == "" {
			err = errors.New("no address returned")
		}
		return map[string]interface{}{"Address": ret.Address, "Data": ret.Data}, err
	case "ipam.release_address":
		var ret ipamEmptyResponse
		return nil, h.ipamCall("ReleaseAddress", &ipamReleaseAddressRequest{PoolID: o.PoolID, Address: o.Address}, &ret)
	}
	return nil, fmt.Errorf("unknown operation %q", o.Op)
}

func script() error {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := json.NewEncoder(os.Stdout)
	h := &host{}
	for in.Scan() {
		var o op
		var res result
		if err := json.Unmarshal(in.Bytes(), &o); err != nil {
			res.Error = "bad operation: " + err.Error()
		} else if value, err := h.run(o); err != nil {
			res.Error = err.Error()
			res.NotFound = plugins.IsNotFound(err)
		} else {
			res.OK = true
			res.Value = value
		}
		if err := out.Encode(res); err != nil {
			return err
		}
	}
	return in.Err()
}

// cpuMicros is this process's user+system CPU time from /proc/self/stat.
func cpuMicros() (int64, error) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	text := string(stat)
	fields := strings.Fields(text[strings.LastIndex(text, ")")+1:])
	if len(fields) < 13 {
		return 0, errors.New("short /proc/self/stat")
	}
	utime, err := strconv.ParseInt(fields[11], 10, 64)
	if err != nil {
		return 0, err
	}
	stime, err := strconv.ParseInt(fields[12], 10, 64)
	if err != nil {
		return 0, err
	}
	// USER_HZ is 100 on Linux.
	return (utime + stime) * 10000, nil
}

func bench(args []string) error {
	flags := flag.NewFlagSet("bench", flag.ExitOnError)
	addr := flags.String("addr", "", "the plugin's address")
	ca := flags.String("ca", "", "CA file for https")
	method := flags.String("method", "Echo.Echo", "the method")
	body := flags.String("body", "", "the JSON body (default: none)")
	calls := flags.Int64("n", 10000, "calls to make")
	concurrency := flags.Int("c", 8, "concurrent callers")
	warmup := flags.Int("warmup", 100, "calls before measuring")
	flags.Parse(args)

	client, err := plugins.NewClient(*addr, tlsOptions(*ca))
	if err != nil {
		return err
	}
	var arg interface{}
	if *body != "" {
		arg = json.RawMessage(*body)
	}
	if err := client.Call("Plugin.Activate", nil, &json.RawMessage{}); err != nil {
		return err
	}
	for i := 0; i < *warmup; i++ {
		if err := client.Call(*method, arg, &json.RawMessage{}); err != nil {
			return err
		}
	}
	cpuBefore, err := cpuMicros()
	if err != nil {
		return err
	}
	var next, failures int64
	latencies := make([][]time.Duration, *concurrency)
	var wg sync.WaitGroup
	started := time.Now()
	for i := 0; i < *concurrency; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) <= *calls {
				t0 := time.Now()
				if err := client.Call(*method, arg, &json.RawMessage{}); err != nil {
					atomic.AddInt64(&failures, 1)
				}
				latencies[i] = append(latencies[i], time.Since(t0))
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(started)
	cpuAfter, err := cpuMicros()
	if err != nil {
		return err
	}
	all := []time.Duration{}
	for _, l := range latencies {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	percentile := func(p int) int64 {
		if len(all) == 0 {
			return 0
		}
		return all[(len(all)-1)*p/100].Microseconds()
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"calls":       len(all),
		"concurrency": *concurrency,
		"calls_per_s": float64(len(all)) / elapsed.Seconds(),
		"p50_us":      percentile(50),
		"p99_us":      percentile(99),
		"errors":      failures,
		"cpu_us":      cpuAfter - cpuBefore,
	})
}

func main() {
	var err error
	switch {
	case len(os.Args) >= 2 && os.Args[1] == "script":
		err = script()
	case len(os.Args) >= 2 && os.Args[1] == "bench":
		err = bench(os.Args[2:])
	default:
		err = errors.New("usage: dockerhost script | dockerhost bench -addr URL ...")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockerhost:", err)
		os.Exit(1)
	}
}
