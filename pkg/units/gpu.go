package units

import (
	"fmt"
	"strings"
)

// MaxGPUs bounds the GPUs one job may ask for.
const MaxGPUs = 1024

// maxTypeLen bounds a GPU type name.
const maxTypeLen = 64

const gpuKind = "GPU request"

// ParseGPUs parses a --gpus / --gpus-per-node value: "N" or "type:N"
// (e.g. "4", "h100:4"). N is 0..MaxGPUs; with a type it must be at least 1.
// A type is letters, digits, '.', '_' and '-', starting with a letter.
func ParseGPUs(s string) (count int, typ string, err error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, "", newError(gpuKind, s, "empty; use N or type:N, e.g. 4 or h100:4")
	}
	num := t
	if i := strings.LastIndexByte(t, ':'); i >= 0 {
		typ, num = t[:i], t[i+1:]
		if err := checkGPUType(s, gpuKind, typ); err != nil {
			return 0, "", err
		}
	}
	count, err = gpuCount(s, gpuKind, num)
	if err != nil {
		return 0, "", err
	}
	if typ != "" && count == 0 {
		return 0, "", newError(gpuKind, s, "a typed request needs at least 1 GPU")
	}
	return count, typ, nil
}

const gresKind = "gres"

// ParseGres parses a --gres value: "gpu", "gpu:N", "gpu:type" or
// "gpu:type:N" (the count defaults to 1), or a comma list holding one such
// entry. Only the gpu resource exists; other names are refused.
func ParseGres(s string) (count int, typ string, err error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, "", newError(gresKind, s, "empty; use gpu:N or gpu:type:N")
	}
	found := false
	for _, entry := range strings.Split(t, ",") {
		entry = strings.TrimSpace(entry)
		parts := strings.Split(entry, ":")
		name := parts[0]
		if name != "gpu" {
			if name == "" {
				return 0, "", newError(gresKind, s, "empty entry; use gpu:N or gpu:type:N")
			}
			return 0, "", newError(gresKind, s, fmt.Sprintf("unknown generic resource %q: only \"gpu\" is supported", short(name)))
		}
		if found {
			return 0, "", newError(gresKind, s, "gpu given more than once")
		}
		found = true
		count, typ = 1, ""
		switch len(parts) {
		case 1:
		case 2:
			if isDigits(parts[1]) {
				count, err = gpuCount(s, gresKind, parts[1])
			} else {
				typ = parts[1]
				err = checkGPUType(s, gresKind, typ)
			}
		case 3:
			typ = parts[1]
			if err = checkGPUType(s, gresKind, typ); err == nil {
				count, err = gpuCount(s, gresKind, parts[2])
			}
		default:
			err = newError(gresKind, s, "too many fields; use gpu:N or gpu:type:N")
		}
		if err != nil {
			return 0, "", err
		}
	}
	if typ != "" && count == 0 {
		return 0, "", newError(gresKind, s, "a typed request needs at least 1 GPU")
	}
	return count, typ, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func gpuCount(in, kind, num string) (int, error) {
	if strings.HasPrefix(num, "-") {
		return 0, newError(kind, in, "GPU count must not be negative")
	}
	v, valid, over := parseUint(num, MaxGPUs)
	if !valid {
		return 0, newError(kind, in, fmt.Sprintf("GPU count %q is not a whole number", short(num)))
	}
	if over {
		return 0, newError(kind, in, fmt.Sprintf("too many GPUs (at most %d)", MaxGPUs))
	}
	return int(v), nil
}

func checkGPUType(in, kind, typ string) error {
	if typ == "" {
		return newError(kind, in, "empty GPU type")
	}
	if len(typ) > maxTypeLen {
		return newError(kind, in, fmt.Sprintf("GPU type longer than %d characters", maxTypeLen))
	}
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return newError(kind, in, fmt.Sprintf("GPU type %q must start with a letter", short(typ)))
		}
		if !letter && !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != '-' {
			return newError(kind, in, fmt.Sprintf("GPU type %q may hold only letters, digits, '.', '_' and '-'", short(typ)))
		}
	}
	return nil
}
