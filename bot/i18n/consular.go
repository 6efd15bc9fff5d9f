package i18n

// Texts of the live consular card: whether the section is open now, and
// the button that sends its address as a map.
const (
	ConsularOpenNow       Key = "consular_open_now"       // {close}
	ConsularOpensLater    Key = "consular_opens_later"    // {open}: closed now, opens later today
	ConsularClosedHoliday Key = "consular_closed_holiday" // {day} {open}
	ConsularClosedNow     Key = "consular_closed_now"     // {day} {open}
	ConsularZoneNote      Key = "consular_zone_note"      //
	ButtonConsularMap     Key = "button_consular_map"     // plain
	ConsularNoMap         Key = "consular_no_map"         // plain
	// To staff: the site's header shows other consular contacts.
	ConsularContactsChanged Key = "consular_contacts_changed" // {old_phone} {new_phone} {old_email} {new_email}
)

func consularEnglish() map[Key]string {
	return map[Key]string{
		ConsularOpenNow:       "🟢 <b>Open now</b>, closes at {close}",
		ConsularOpensLater:    "🟡 <b>Closed now</b>, opens today at {open}",
		ConsularClosedHoliday: "🔴 <b>Closed today (holiday)</b>, opens {day} {open}",
		ConsularClosedNow:     "🔴 <b>Closed now</b>, opens {day} {open}",
		ConsularZoneNote:      "(London time)",
		ButtonConsularMap:     "📍 Show on the map",
		ConsularNoMap:         "The map is not available.",
		ConsularContactsChanged: "☎️ <b>The consular contacts on the site changed</b>\nPhone: {old_phone} → {new_phone}\n" +
			"E-mail: {old_email} → {new_email}\n/consular now shows the new ones, unless consular.pin is set in the config.",
	}
}

func consularRussian() map[Key]string {
	return map[Key]string{
		ConsularOpenNow:       "🟢 <b>Сейчас открыто</b>, закрывается в {close}",
		ConsularOpensLater:    "🟡 <b>Сейчас закрыто</b>, откроется сегодня в {open}",
		ConsularClosedHoliday: "🔴 <b>Сегодня закрыто (праздник)</b>, откроется в {day} {open}",
		ConsularClosedNow:     "🔴 <b>Сейчас закрыто</b>, откроется в {day} {open}",
		ConsularZoneNote:      "(время лондонское)",
		ButtonConsularMap:     "📍 Показать на карте",
		ConsularNoMap:         "Карта недоступна.",
		ConsularContactsChanged: "☎️ <b>Консульские контакты на сайте изменились</b>\nТелефон: {old_phone} → {new_phone}\n" +
			"E-mail: {old_email} → {new_email}\n/consular теперь показывает новые, если в конфигурации не задано consular.pin.",
	}
}
