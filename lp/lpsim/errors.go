package lpsim

import (
	"encoding/json"
	"net/http"
)

// LivePerson errorCodes of 401 answers (lp-api.md §4 "Errors"), and 40001 also for a bad brandId.
const (
	codeBadClaims       = 40001 // AppJWT claims wrong (aud ≠ account), or brandId missing/wrong
	codeAppJWTInvalid   = 40102 // AppJWT expired, malformed or badly signed
	codeConsumerInvalid = 40103 // ConsumerJWS invalid, or the consumer does not own the conversation
	codeConsumerMissing = 40104 // X-LP-ON-BEHALF absent
	codeAppJWTMissing   = 40105 // Authorization absent
)

// apiErr is a refusal decided by a handler. The zero value means "no error", so checks return it
// by value and allocate nothing on the success path.
type apiErr struct {
	status  int
	title   string
	details string
	code    int // LivePerson errorCode; 0 when lp-api.md lists none for the case
}

func (e apiErr) failed() bool { return e.status != 0 }

// errorBody is the documented error shape (fixtures/error-401.json), used for every status.
type errorBody struct {
	Kind string          `json:"kind"`
	Code int             `json:"code"`
	Body errorBodyDetail `json:"body"`
	Type string          `json:"type"`
}

type errorBodyDetail struct {
	Title     string `json:"title"`
	Details   string `json:"details"`
	ErrorCode int    `json:"errorCode,omitempty"`
}

// body renders e in the documented error shape.
func (e apiErr) body() []byte {
	b, err := json.Marshal(errorBody{
		Kind: "resp",
		Code: e.status,
		Body: errorBodyDetail{Title: e.title, Details: e.details, ErrorCode: e.code},
		Type: ".ReqBody$ErrorResp",
	})
	if err != nil { // only strings and ints: cannot happen
		panic(err)
	}
	return b
}

// badRequest is a 400 without a LivePerson errorCode.
func badRequest(title, details string) apiErr {
	return apiErr{status: http.StatusBadRequest, title: title, details: details}
}

// unauthorized is a 401 with a LivePerson errorCode.
func unauthorized(code int, title, details string) apiErr {
	return apiErr{status: http.StatusUnauthorized, title: title, details: details, code: code}
}

// The refusals shared by several handlers.
var (
	errAppJWTMissing = unauthorized(codeAppJWTMissing, "AppJWT is missing", "AUTHORIZATION header is not present")
	errAppJWTInvalid = unauthorized(codeAppJWTInvalid, "AppJWT is invalid", "AppJWT is malformed or its signature does not verify")
	errAppJWTExpired = unauthorized(codeAppJWTInvalid, "AppJWT is expired", "AppJWT is past its expiry")
	errAppJWTAud     = unauthorized(codeBadClaims, "AppJWT claims are wrong", "the AppJWT audience is not the account of the request")

	errConsumerMissing = unauthorized(codeConsumerMissing, "ConsumerJWS is missing", "X-LP-ON-BEHALF header is not present")
	errConsumerInvalid = unauthorized(codeConsumerInvalid, "ConsumerJWS is invalid", "X-LP-ON-BEHALF is malformed, badly signed or of another account")
	errConsumerExpired = unauthorized(codeConsumerInvalid, "ConsumerJWS is expired", "ConsumerJWS is past its expiry")
	errNotOwner        = unauthorized(codeConsumerInvalid, "ConsumerJWS is invalid", "the consumer does not own this conversation")

	errTooLarge = apiErr{status: http.StatusRequestEntityTooLarge, title: "Request body too large", details: "the body exceeds 64 KiB"}
	errNotFound = apiErr{status: http.StatusNotFound, title: "Not found", details: "no such resource"}
)
