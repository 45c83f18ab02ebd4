package server

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3 description of every route (docs/openapi.json
// is a copy; a test keeps both and the router in step).
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
