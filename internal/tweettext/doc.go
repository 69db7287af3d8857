// Package tweettext holds psnd's rules for the text of a post on X: how long
// it is, whether it may be posted, and how a long text becomes a thread.
//
// # Length
//
// [Parse] computes the weighted length by the rules of the official
// twitter-text library v3 (JavaScript parseTweet, version 3.1.0, default
// config): the text is NFC-normalised; every URL that twitter-text's
// extractor recognises, with or without a protocol, counts 23; every emoji
// sequence counts 2; every other code point weighs 1 if it lies in
// U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F or U+2032–U+2037 and 2
// otherwise. U+FFFE, U+FEFF and U+FFFF make a text invalid, as does an empty
// one. Positions ([Result] ranges) are UTF-16 indices into the original
// text, like parseTweet's, so twitter-text's conformance suites run
// unchanged.
//
// # Where psnd deliberately differs from twitter-text 3.1.0
//
// The output is not identical to the library's, on purpose, in these
// cases (jsdiff_test.go diffs against the library and names each one):
//
//   - Newer emoji. twitter-text 3.1.0 only knows emoji up to Emoji 11
//     (twemoji-parser 11); newer sequences (🧑‍🤝‍🧑, a skin-toned 🫱🏻‍🫲🏼,
//     the fully-qualified 👁️‍🗨️, Emoji 15.1's 🐦‍🔥 and 🙂‍↔️, 16.0's flag
//     🇨🇶, 17.0's sequences) fall apart into their code points there and
//     weigh 5–8. X counts every fully-qualified sequence as one emoji, and so
//     does this package, from the Emoji release it was generated from
//     (emojiDataVersion, 17.0, pinned in internal/gen/emojidata). A lone
//     skin-tone modifier after an emoji is an emoji of its own (2), as in
//     the library. Where no newer sequence is involved the counts, ranges
//     and entities are the library's.
//   - Blank texts. [Check] refuses a text of only white space and zero-width
//     characters ("Tweet is empty"), which parseTweet calls valid: X refuses
//     to post it. [Parse] itself follows the library.
//   - NUL. [Check] refuses a text holding U+0000, which parseTweet accepts:
//     X does not store it. [Parse] itself follows the library.
//   - Invalid UTF-8. JavaScript strings cannot hold it; [Check] refuses it
//     and [Parse] counts each bad byte as U+FFFD.
//
// # Validation
//
// [Check] turns the length into a verdict for a post: an error above the
// account's limit (280, or 25,000 for Premium), for empty text, invalid
// UTF-8 or forbidden characters, and warnings that never block: more than
// 10 mentions, more than 5 hashtags, and a near-duplicate of a recent post.
// [NearDuplicate] defines "near": both texts NFC-normalised, case-folded,
// URLs replaced by one placeholder and white space collapsed, then equal,
// or a Dice similarity of character trigrams of at least 0.9 when both have
// at least [MinDuplicateRunes] characters and the same numbers (texts that
// differ only in their numbers are a series, not an accident). "Recent" is the
// caller's choice: the account's posts of the last [RecentWindow] (7 days).
// X refuses exact duplicates, and near ones are usually an accident.
// [CheckBatch] checks JSON Lines streams.
//
// # Threads
//
// [Split] cuts a long text into tweets at paragraph, then sentence, then word
// boundaries, never inside a word, URL, mention, hashtag, cashtag or emoji
// sequence, optionally numbering them " i/n".
package tweettext
