package nexus

// AWS Signature Version 4 with the standard library's crypto, made at a given instant so the
// shared vectors (AWS's own get-vanilla case among them) can fix the clock.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-broker/nexus/clients/go/gateway"
)

const (
	sigv4Algorithm = "AWS4-HMAC-SHA256"
	sigv4Timestamp = "20060102T150405Z"
)

// unsignedHeaders are never signed: a proxy or the transport may change them on the way (the
// set botocore leaves out), and Authorization carries the signature itself.
var unsignedHeaders = map[string]bool{"user-agent": true, "expect": true, "x-amzn-trace-id": true, "authorization": true}

// awsEscape percent-encodes everything but RFC 3986's unreserved characters (and '/' in a path),
// in uppercase hex, as AWS's canonical request requires.
func awsEscape(text string, keepSlash bool) string {
	var out strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		unreserved := ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '_' || c == '.' || c == '~'
		if unreserved || (keepSlash && c == '/') {
			out.WriteByte(c)
		} else {
			out.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return out.String()
}

// canonicalURI is the path as AWS signs it: for every service but S3, normalised and encoded
// once more over its escaped form; for S3 the escaped path as it is.
func canonicalURI(u *url.URL, service string) string {
	escaped := u.EscapedPath()
	if escaped == "" {
		return "/"
	}
	if service == "s3" {
		return escaped
	}
	cleaned := path.Clean(escaped)
	if strings.HasSuffix(escaped, "/") && cleaned != "/" {
		cleaned += "/"
	}
	return awsEscape(cleaned, true)
}

func canonicalQuery(raw string) string {
	var pairs []string
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		if decoded, err := url.QueryUnescape(key); err == nil {
			key = decoded
		}
		if decoded, err := url.QueryUnescape(value); err == nil {
			value = decoded
		}
		pairs = append(pairs, awsEscape(key, false)+"="+awsEscape(value, false))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// hostForSigning is the Host the request goes out with, without a scheme's default port.
func hostForSigning(req *http.Request) string {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if _, port, err := net.SplitHostPort(host); err == nil && port == strconv.Itoa(defaultPorts[strings.ToLower(req.URL.Scheme)]) {
		host = strings.TrimSuffix(host, ":"+port)
	}
	return strings.ToLower(host)
}

func hmacSHA256(key []byte, data string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(data))
	return mac.Sum(nil)
}

// signAWS adds X-Amz-Date, X-Amz-Security-Token (temporary credentials) and the Authorization
// signature to req, made at now (zero: the current time).
func signAWS(envelope *gateway.CredentialEnvelope, strategy *gateway.StrategyAwsSigv4Strategy, req *http.Request, now time.Time) error {
	accessKeyID, err := field(envelope, "access_key_id")
	if err != nil {
		return err
	}
	secretAccessKey, err := field(envelope, "secret_access_key")
	if err != nil {
		return err
	}
	body, err := bodyBytes(req)
	if err != nil {
		return refused(CodeBodyNotRepeatable, "the request body could not be read for the AWS signature")
	}
	if now.IsZero() {
		now = time.Now()
	}
	stamp := now.UTC().Format(sigv4Timestamp)
	day := stamp[:8]
	req.Header.Del("Authorization")
	req.Header.Set("X-Amz-Date", stamp)
	if token, ok := envelope.Credentials["session_token"]; ok {
		req.Header.Set("X-Amz-Security-Token", token)
	}

	values := map[string]string{"host": hostForSigning(req)}
	for name, given := range req.Header {
		lower := strings.ToLower(name)
		if unsignedHeaders[lower] || lower == "host" {
			continue
		}
		trimmed := make([]string, len(given))
		for i, value := range given {
			trimmed[i] = strings.Join(strings.Fields(value), " ")
		}
		values[lower] = strings.Join(trimmed, ",")
	}
	names := sortedKeys(values)
	var headers strings.Builder
	for _, name := range names {
		headers.WriteString(name + ":" + values[name] + "\n")
	}
	signed := strings.Join(names, ";")
	payload := sha256.Sum256(body)
	canonical := strings.Join([]string{
		req.Method,
		canonicalURI(req.URL, strategy.Service),
		canonicalQuery(req.URL.RawQuery),
		headers.String(),
		signed,
		hex.EncodeToString(payload[:]),
	}, "\n")
	scope := day + "/" + strategy.Region + "/" + strategy.Service + "/aws4_request"
	digest := sha256.Sum256([]byte(canonical))
	toSign := sigv4Algorithm + "\n" + stamp + "\n" + scope + "\n" + hex.EncodeToString(digest[:])
	key := hmacSHA256([]byte("AWS4"+secretAccessKey), day)
	key = hmacSHA256(key, strategy.Region)
	key = hmacSHA256(key, strategy.Service)
	key = hmacSHA256(key, "aws4_request")
	signature := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", sigv4Algorithm+" Credential="+accessKeyID+"/"+scope+", SignedHeaders="+signed+", Signature="+signature)
	return nil
}
