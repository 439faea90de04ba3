package bansosbot

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"strings"
)

// TicketAlphabet holds the characters of ticket numbers: digits and
// capital letters without the ones people confuse (0/O, 1/I/L). Its size,
// 31, is prime, which makes the check character catch every single
// mistyped character and every swap of two neighbours.
const TicketAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// TicketPrefix starts every formatted ticket number.
const TicketPrefix = "BS-"

const (
	ticketDigits = 6                                    // characters that carry the number
	ticketHalf   = 31 * 31 * 31                         // each Feistel half: 3 characters
	ticketRounds = 10                                   // Feistel rounds
	ticketLen    = len(TicketPrefix) + ticketDigits + 1 // "BS-" + 6 + check = 10
)

// TicketNoCapacity is the number of distinct ticket numbers (31^6): NewTicketNo
// is a bijection on sequence numbers below it.
const TicketNoCapacity uint64 = ticketHalf * ticketHalf

// TicketNo is a short ticket number for humans, "BS-7K3M9QX": the prefix,
// six characters of TicketAlphabet and a check character. A TicketNo from
// NewTicketNo or ParseTicketNo is always in this canonical form.
type TicketNo string

// NewTicketNo derives the ticket number of the internal sequence number
// seq under a secret key (keep it in configuration, never change it once
// numbers are issued). A keyed permutation (a 10-round Feistel network
// over 31^3 × 31^3, round function AES) makes consecutive tickets look
// unrelated, so numbers are neither sequential nor guessable, while
// distinct seq < TicketNoCapacity always give distinct numbers. Larger seq
// are taken modulo TicketNoCapacity: callers must not issue that many.
func NewTicketNo(seq uint64, key []byte) TicketNo {
	x := ticketPerm(key, seq%TicketNoCapacity, false)
	var b [ticketLen]byte
	copy(b[:], TicketPrefix)
	digits := b[len(TicketPrefix) : len(TicketPrefix)+ticketDigits]
	for i := ticketDigits - 1; i >= 0; i-- {
		digits[i] = TicketAlphabet[x%31]
		x /= 31
	}
	b[ticketLen-1] = TicketAlphabet[ticketCheck(digits)]
	return TicketNo(b[:])
}

// Seq inverts NewTicketNo: the sequence number t was made from under key.
// ok is false when t is not in canonical form.
func (t TicketNo) Seq(key []byte) (seq uint64, ok bool) {
	if _, err := ParseTicketNo(string(t)); err != nil || !strings.HasPrefix(string(t), TicketPrefix) {
		return 0, false
	}
	var x uint64
	for _, c := range []byte(t[len(TicketPrefix) : len(TicketPrefix)+ticketDigits]) {
		x = x*31 + uint64(strings.IndexByte(TicketAlphabet, c))
	}
	return ticketPerm(key, x, true), true
}

// String is the ticket number as shown to people.
func (t TicketNo) String() string { return string(t) }

// ParseTicketNo reads a ticket number as a user types it: case does not
// matter, spaces and dashes are ignored, and the "BS" prefix may be left
// out ("bs-7k3m9qx", "7K3 M9QX"). Characters outside TicketAlphabet are
// rejected, not guessed: 0, O, 1, I and L never occur in ticket numbers.
// Any failure (wrong length, bad character, check character mismatch,
// which catches one mistyped character or two swapped neighbours) is an
// *Error EInvalid with key "ticket.bad_number". The result is canonical.
func ParseTicketNo(s string) (TicketNo, error) {
	bad := Errorf(EInvalid, "ticket.bad_number")
	if len(s) > 64 {
		return "", bad
	}
	var b [ticketLen]byte
	copy(b[:], TicketPrefix)
	body := b[len(TicketPrefix):]
	var raw []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-' || c == '\t':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		raw = append(raw, c)
	}
	if len(raw) == len(body)+2 && raw[0] == 'B' && raw[1] == 'S' {
		raw = raw[2:]
	}
	if len(raw) != len(body) {
		return "", bad
	}
	for i, c := range raw {
		if strings.IndexByte(TicketAlphabet, c) < 0 {
			return "", bad
		}
		body[i] = c
	}
	if TicketAlphabet[ticketCheck(body[:ticketDigits])] != body[ticketDigits] {
		return "", bad
	}
	return TicketNo(b[:]), nil
}

// ticketCheck is the value of the check character: the weighted sum of
// the digit values with weights 2..7, negated mod 31, so that the sum with
// the check character at weight 1 is 0 mod 31.
func ticketCheck(digits []byte) int {
	sum := 0
	for i, c := range digits {
		sum += (i + 2) * strings.IndexByte(TicketAlphabet, c)
	}
	return (31 - sum%31) % 31
}

// ticketPerm applies the keyed permutation of [0, TicketNoCapacity) to x,
// or its inverse.
func ticketPerm(key []byte, x uint64, inverse bool) uint64 {
	k := sha256.Sum256(key)
	block, err := aes.NewCipher(k[:])
	if err != nil {
		panic(err) // unreachable: the key is 32 bytes
	}
	l, r := x/ticketHalf, x%ticketHalf
	if !inverse {
		for round := 0; round < ticketRounds; round++ {
			l, r = r, (l+ticketRound(block, round, r))%ticketHalf
		}
	} else {
		for round := ticketRounds - 1; round >= 0; round-- {
			l, r = (r+ticketHalf-ticketRound(block, round, l))%ticketHalf, l
		}
	}
	return l*ticketHalf + r
}

// ticketRound is the Feistel round function: AES of (round, half), reduced
// to [0, ticketHalf).
func ticketRound(block cipher.Block, round int, half uint64) uint64 {
	var in, out [aes.BlockSize]byte
	in[0] = byte(round)
	binary.BigEndian.PutUint64(in[1:], half)
	block.Encrypt(out[:], in[:])
	return binary.BigEndian.Uint64(out[:]) % ticketHalf
}
