// Package layering checks, with `go list -deps`, what each image main package links:
// the broker images link no sensor machinery (cron, Lua, jq, sprig, expr, the engine,
// trigger types), the source images no Lua, jq, cron, engine or trigger types, and the
// push-source images (every source image but resource's) no client-go.
package layering
