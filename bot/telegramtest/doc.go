// Package telegramtest is an in-process fake of the Telegram Bot API.
//
// It serves the subset of the Bot API the bansos bot uses over real HTTP on
// 127.0.0.1, so the real github.com/go-telegram/bot client can be pointed at
// it with tg.WithServerURL(srv.URL()) and end-to-end tests exercise the same
// wire format (multipart forms, JSON results, Telegram's error shapes) the bot
// sees in production. The same fake drives the interactive demo, which is why
// the package does not depend on package testing.
//
// A Server plays three roles:
//
//   - The Bot API: getMe, getUpdates (long polling with offset confirmation),
//     sendMessage, editMessageText, editMessageCaption,
//     editMessageReplyMarkup, deleteMessage,
//     answerCallbackQuery, sendPhoto, sendDocument, sendLocation,
//     sendChatAction, getFile plus file downloads, set/get/deleteMyCommands,
//     setWebhook, deleteWebhook, getWebhookInfo and getChat. Validation follows
//     Telegram where it matters for a bot: HTML parse mode, text and caption
//     lengths, callback_data size, "message is not modified", unknown
//     messages and callback queries.
//   - The users: SendText, SendCommand, PressButton, SendPhoto, SendLocation,
//     SendContact, ... create updates that the bot receives through
//     getUpdates or, when a webhook is set, through POSTs to the webhook.
//   - The observer: every chat has a transcript of both sides (see Entry)
//     that tests can wait for (WaitBotMessages, WaitFor) and compare against
//     golden text (Entry.String, FormatTranscript), and Subscribe reports
//     changes live.
//
// Faults can be injected per method (FailNext), per chat (FailChat), for the
// whole server (SetDown, Freeze/Thaw) and through Telegram's own flood
// limits (WithLimits), and Stats counts what every method answered.
//
// Timing: a bot message appears in the transcript (and WaitBotMessages
// returns) when the fake processes the request, which is before the bot has
// read the answer. A test that next checks what the bot does after a
// successful send (say, storing the message id) must wait for that itself.
// A request whose client has already gone away when the fake gets to it is
// discarded unprocessed; Freeze, stopping the bot and Thaw therefore
// simulate a crash with nothing on the wire (see Thaw).
//
// Deliberate simplifications: chats need not exist before the bot writes to
// them (any chat id is accepted), only the HTML parse mode is validated
// (Markdown and MarkdownV2 text is stored verbatim), inline_message_id is not
// supported, and the webhook ignores methods returned in the webhook reply.
//
// All methods of Server are safe for concurrent use.
package telegramtest
