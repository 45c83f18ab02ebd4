package netstats

import (
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
)

func init() {
	handler.Register(handler.Info{
		Type: Type, Version: "1.0", Schema: Schema,
		// Input statistics carry the packets a kernel pre-filter kept
		// from user space, which net counts as filtered.
		Consumes:   []event.Kind{event.KindPacket, event.KindInputStats},
		ConfigKeys: geoKeys, Groups: Groups(),
		Default: true, DefaultOrder: 1, LeadsChain: true,
		New: func(o handler.Options) (handler.Handler, error) { return NewV1(o) },
	})
}
