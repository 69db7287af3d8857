package tweettext

// The TLD and emoji tables are generated from reference data that a plain
// clone does not have: twitter-text's tld_lib.yml (in ../shared beside the
// repository), the current Emoji release X counts (the npm package pinned in
// internal/gen/emojidata: `npm ci` there) and, for twitter-text 3.1.0's own
// emoji quirks, Unicode 15.0's emoji files (Debian package unicode-data).
// The generated files are committed; internal/gen's test regenerates them in
// memory and fails when they drift from their sources.
//go:generate go run ./internal/gen -tld ../../../shared/twitter-text/tld_lib.yml -emoji /usr/share/unicode/emoji -out .
//go:generate go test -run TestTriesGenerated -update-tries .
