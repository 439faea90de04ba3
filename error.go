package bansosbot

import (
	"errors"
	"fmt"
)

// Error codes classify errors a user can understand or fix.
const (
	EInvalid      = "invalid"      // the input is malformed
	ENotFound     = "not_found"    // the thing does not exist (or the caller may not know it exists)
	EConflict     = "conflict"     // the action does not fit the current state
	EUnauthorized = "unauthorized" // the caller may not do this
	ERateLimited  = "rate_limited" // the caller is acting too often
	EInternal     = "internal"     // anything else; never shown in detail
)

// Error is an error the user can act on. Key is a locale key describing it
// and Args are the template arguments for that key.
type Error struct {
	Code string
	Key  string
	Args map[string]any
}

func (e *Error) Error() string {
	if len(e.Args) == 0 {
		return fmt.Sprintf("bansosbot: %s (%s)", e.Code, e.Key)
	}
	return fmt.Sprintf("bansosbot: %s (%s %v)", e.Code, e.Key, e.Args)
}

// Errorf returns an *Error with the given code, locale key and arguments.
// args are key/value pairs: Errorf(EInvalid, "nik.wrong_length", "Got", 12).
func Errorf(code, key string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: Pairs(args...)}
}

// Pairs turns name/value pairs into a map of template arguments for a
// locale key; nil when there are none.
func Pairs(kv ...any) map[string]any {
	if len(kv) == 0 {
		return nil
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		name, _ := kv[i].(string)
		m[name] = kv[i+1]
	}
	return m
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// EInternal otherwise; "" for a nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorKey returns the locale key of err if it is (or wraps) an *Error, and
// "" otherwise.
func ErrorKey(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Key
	}
	return ""
}
