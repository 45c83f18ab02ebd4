package pcapstats

import (
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
)

func init() {
	handler.Register(handler.Info{
		Type: Type, Version: "1.0", Schema: Schema,
		Consumes: []event.Kind{event.KindInputStats},
		Default:  true, DefaultOrder: 4, DefaultName: "pcap_stats",
		New: func(o handler.Options) (handler.Handler, error) { return New(o) },
	})
}
