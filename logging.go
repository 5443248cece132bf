package main

import (
	"io"
	"log/slog"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	slgk "github.com/tjhop/slog-gokit"
)

// logFlags are the flags of the logs: the exporter's go-kit logger and the
// one slog bridge exporter-toolkit gets are both built from them, here.
type logFlags struct {
	level, format *string
}

func addLogFlags(app *kingpin.Application) logFlags {
	return logFlags{
		level:  app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").Enum("debug", "info", "warn", "error"),
		format: app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").Enum("logfmt", "json"),
	}
}

// loggers builds the go-kit logger and its slog bridge for exporter-toolkit,
// whose lines get the same shape as the exporter's own: ts, caller, level, msg.
func (f logFlags) loggers(w io.Writer) (log.Logger, *slog.Logger) {
	var base log.Logger
	if *f.format == "json" {
		base = log.NewJSONLogger(log.NewSyncWriter(w))
	} else {
		base = log.NewLogfmtLogger(log.NewSyncWriter(w))
	}
	allow := map[string]level.Option{
		"debug": level.AllowDebug(), "info": level.AllowInfo(), "warn": level.AllowWarn(), "error": level.AllowError(),
	}[*f.level]
	slogLevel := map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	}[*f.level]
	logger := level.NewFilter(log.With(base, "ts", log.DefaultTimestampUTC, "caller", log.Caller(5)), allow)
	return logger, slog.New(slgk.NewGoKitHandler(sameShape(base), slogLevel))
}

// sameShape reorders the bridge's "level, caller, time, msg" into the
// exporter's "ts, caller, level, msg", with ts written as the exporter's
// own lines write it, so that one stream has one line shape.
func sameShape(base log.Logger) log.Logger {
	return log.LoggerFunc(func(keyvals ...any) error {
		var ts, caller, lvl any = "", "", ""
		rest := make([]any, 0, len(keyvals))
		for i := 0; i+1 < len(keyvals); i += 2 {
			switch keyvals[i] {
			case "time":
				ts = keyvals[i+1]
				if t, ok := ts.(time.Time); ok {
					ts = t.UTC().Format(time.RFC3339Nano)
				}
			case "caller":
				caller = keyvals[i+1]
			case "level":
				lvl = keyvals[i+1]
			default:
				rest = append(rest, keyvals[i], keyvals[i+1])
			}
		}
		return base.Log(append([]any{"ts", ts, "caller", caller, "level", lvl}, rest...)...)
	})
}
