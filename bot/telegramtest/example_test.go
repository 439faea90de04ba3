package telegramtest_test

import (
	"context"
	"fmt"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/bansosbot/bansosbot/bot/telegramtest"
)

func Example() {
	srv := telegramtest.NewServer("")
	defer srv.Close()

	// The bot under test uses the real client, pointed at the fake.
	b, err := tg.New(srv.Token(), tg.WithServerURL(srv.URL()), tg.WithSkipGetMe(),
		tg.WithDefaultHandler(func(ctx context.Context, b *tg.Bot, u *models.Update) {
			if u.Message != nil {
				_, _ = b.SendMessage(ctx, &tg.SendMessageParams{
					ChatID:    u.Message.Chat.ID,
					Text:      "Halo, <b>" + u.Message.From.FirstName + "</b>! Lanjut?",
					ParseMode: models.ParseModeHTML,
					ReplyMarkup: models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{
						{Text: "Ya", CallbackData: "next:yes"}, {Text: "Tidak", CallbackData: "next:no"},
					}}},
				})
			}
		}))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	botCtx, stopBot := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Start(botCtx)
	}()
	defer func() {
		stopBot()
		<-done
	}()

	// Act as a user and wait for the answer.
	user := telegramtest.User{ID: 42, FirstName: "Siti"}
	srv.SendCommand(user, "/start")
	if _, err := srv.WaitBotMessages(ctx, user.ID, 1); err != nil {
		panic(err)
	}
	fmt.Print(telegramtest.FormatTranscript(srv.Transcript(user.ID)))
	// Output:
	// user#1: /start
	// bot#2: Halo, Siti! Lanjut? [Ya|next:yes] [Tidak|next:no]
}
