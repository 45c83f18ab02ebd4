package dhcp

import (
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
)

func init() {
	handler.Register(handler.Info{
		Type: Type, Version: "1.0", Schema: Schema,
		Consumes:   []event.Kind{event.KindDHCP},
		ConfigKeys: configKeys,
		Default:    true, DefaultOrder: 2,
		New: func(o handler.Options) (handler.Handler, error) { return NewV1(o) },
	})
}
