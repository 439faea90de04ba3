package synthetic

import (
	"math/rand/v2"
	"strings"
)

// culture is a naming tradition: given names by sex, family names (a
// marga, a father's name, a common second name), prefixes some carry
// (Balinese birth-order names, noble titles) and how names are put
// together.
type culture struct {
	male, female       []string
	family             []string // second words for both sexes
	familyF            []string // second words for women only (Javanese -wati, -ningsih ...)
	prefixM, prefixF   []string // e.g. "I WAYAN", "ANDI", "TEUKU"
	pPrefix            float64  // probability of a prefix
	pFamily            float64  // probability of a second (family) word
	pSecondGiven       float64  // probability of a second given name
	familyIsPatronymic bool     // a family word that is always there (marga)
}

func (c *culture) name(r *rand.Rand, female bool) string {
	var words []string
	given, prefix, famF := c.male, c.prefixM, []string(nil)
	if female {
		given, prefix, famF = c.female, c.prefixF, c.familyF
	}
	if len(prefix) > 0 && r.Float64() < c.pPrefix {
		words = append(words, pick(r, prefix))
	}
	first := pick(r, given)
	words = append(words, first)
	if r.Float64() < c.pSecondGiven {
		if second := pick(r, given); second != first {
			words = append(words, second)
		}
	}
	if c.familyIsPatronymic || r.Float64() < c.pFamily {
		fam := c.family
		if len(famF) > 0 && r.IntN(2) == 0 {
			fam = famF
		}
		if len(fam) > 0 {
			words = append(words, pick(r, fam))
		}
	}
	return strings.Join(words, " ")
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

func w(s string) []string { return strings.Fields(s) }

// Names are upper case, as on the KTP and in the national data.
var cultures = map[string]*culture{
	"javanese": {
		male:         w("BUDI BAMBANG SLAMET SUTRISNO JOKO AGUS HERU SUGENG WAHYU EKO DWI TRI SUPRIYADI SUPARMAN SUKIRMAN PURWANTO HADI TEGUH YUDI BAYU RUDI WAWAN YANTO SUYONO SUMARNO GUNAWAN DARMANTO WIBOWO SUWARNO PAIMIN MULYONO SARIJO TUKIMAN WARSITO SISWANTO NGATIMIN PRIYO ANTON ARIF"),
		female:       w("SRI SITI ENDANG WAHYUNI SUHARTI SUMARNI SULASTRI TUTIK RINI RATNA DEWI YULIANI LESTARI PUJI NINGSIH MURNI SUWARNI KARTINI WULAN AYU INDAH RAHAYU SUPARMI PAINEM SUKINEM TUMINAH SUMIYATI WARSINI"),
		family:       w("SANTOSO WIBOWO SUSANTO PRASETYO SETIAWAN HIDAYAT NUGROHO PURNOMO KURNIAWAN SAPUTRA WIJAYA HARTONO SURYADI UTOMO PRATAMA SUGIHARTO WIDODO SUBAGYO RAHARJO"),
		familyF:      w("HANDAYANI LESTARI RAHAYU WULANDARI SUSANTI KUSUMAWATI PURWANINGSIH SETYOWATI ASTUTI RAHMAWATI MULYANINGSIH"),
		pFamily:      0.55,
		pSecondGiven: 0.1,
	},
	"sundanese": {
		male:    w("ASEP UJANG DEDE CECEP IWAN DADANG ADE YAYAN ACEP DEDEN ENTIS ENGKOS JAJANG AEP AYI UDIN OMAN ENDANG KOMAR DADAN ROHMAT UJANG AGUS"),
		female:  w("EUIS NENG IIS ENOK IMAS YAYAH CUCU NINING RINA ENTIN TITIN LILIS ELIS POPON ENENG OOM TETI YATI DEDEH ONENG"),
		family:  w("SAEPUDIN SUNARYA SURYANA HERMAWAN PERMANA HIDAYAT RUSTANDI SOPANDI SUHERMAN SUPRIATNA KUSNADI SETIADI MULYANA RUHIYAT"),
		familyF: w("KURNIASIH ROHAETI KOMALASARI NURHAYATI MULYANI SUMIATI SRIWAHYUNI HERLINA KARTIKA"),
		pFamily: 0.65,
	},
	"batak": {
		male:               w("TIGOR BINSAR HOTMAN PARULIAN TOGAR MARIHOT SAHAT POLTAK JONNER MARULI DANIEL SAMUEL ROBERT JAMES HENDRA MANGIHUT BONAR PARLINDUNGAN SAUT"),
		female:             w("ROSMAWATI TIURMA NURHAYATI LAMRIA DAMERIA ROTUA HOTMAULI SARMA ERNA LISBET MARIA RUTH MINDO RUSLIANA TIOMINAR DUMA"),
		family:             w("SIREGAR NASUTION SIMANJUNTAK HUTAPEA PARDEDE SITOMPUL LUBIS HARAHAP SIMATUPANG PANJAITAN SINAGA SITUMORANG MANURUNG SILALAHI TAMBUNAN HUTAGALUNG NAPITUPULU PURBA SARAGIH GINTING TARIGAN SEMBIRING SITEPU PASARIBU NAINGGOLAN"),
		familyIsPatronymic: true,
		pSecondGiven:       0.3,
	},
	"minang": {
		male:    w("RAHMAT FAUZI SYAHRIAL ZULKIFLI AFRIZAL YUSRIZAL HENDRI ERWIN DONI RIZAL ANWAR SYAFRI JASMAN ZAINAL NOFRIZAL ARMEN DASRIL YONDRI"),
		female:  w("YUSNIMAR NURHASANAH ROSNIDAR ELVINA YELVI DESI FITRI RAHMI NURMAINI SYAMSIDAR YULINAR ZURAIDA ERNAWATI YUSNIDAR ASNIDAR"),
		family:  w("PUTRA HIDAYAT SYAHPUTRA EFENDI YUSUF AMIR CHANIAGO PILIANG KOTO TANJUNG SIKUMBANG JAMBAK DATUK"),
		familyF: w("PUTRI WATI YANTI SARI"),
		pFamily: 0.6,
	},
	"bugis": {
		male:    w("MUHAMMAD ABDUL SYAMSUL BAHARUDDIN AMIRUDDIN JAMALUDDIN HASANUDDIN SUDIRMAN ARIFIN RIDWAN BASRI NASRUN ALIMUDDIN MUSTAKIM ILHAM ASRUL"),
		female:  w("SITTI NURHAYATI HASNAH ROSMIATI HASMAWATI RAHMAWATI NURLINA DARMAWATI JUMRIAH HARTATI SURIANI MARLINA HAJRAH NURHAEDAH MASNAH"),
		family:  w("BASO TENRI DAENG LATIF RAHMAN SALEH MAPPA PATONGAI MAKKASAU SULAIMAN HAMID KARIM MUSTARI AMIR JUFRI LAWANG"),
		prefixM: w("ANDI"),
		prefixF: w("ANDI"),
		pPrefix: 0.08,
		pFamily: 0.7,
	},
	"balinese": {
		male:    w("SUDARTA SUARJANA ARTAWAN MERTAYASA SUKADANA WIRAWAN ADNYANA SUDIARSA BUDIASA SUWITRA DARMAWAN ASTAWA SUTAMA WIDIANA PARWATA"),
		female:  w("SRIANI SUARTINI ARIANI SUKERTI WARTINI SUDIANI KARTIKA ASTITI SULASTRI LESTARI WAHYUNI PUSPITASARI SUMARNI"),
		prefixM: []string{"I WAYAN", "I MADE", "I NYOMAN", "I KETUT", "I GEDE", "I PUTU", "I KOMANG", "I KADEK", "I GUSTI NGURAH"},
		prefixF: []string{"NI WAYAN", "NI MADE", "NI NYOMAN", "NI KETUT", "NI LUH", "NI PUTU", "NI KOMANG", "NI KADEK", "I GUSTI AYU"},
		pPrefix: 0.95,
		family:  w("ARTA YASA JAYA PUTRA ADI"),
		pFamily: 0.2,
	},
	"acehnese": {
		male:    w("MUHAMMAD ZULKIFLI FADLI MUKHLIS NASRULLAH ISKANDAR HUSAINI RUSLI SAFRIZAL MAHDI MUNAWAR SAIFUL BUKHARI JAMALUDDIN"),
		female:  w("NURUL AINUN MARLINA ROSMAWAR NURHAYATI FITRIANI RAUDHAH ZAHARA MARDIAH SALMIAH NURLAILA RAHMAH HASANAH"),
		family:  w("IBRAHIM YUSUF ABDULLAH HASAN DAUD ISMAIL USMAN ALI HANAFIAH SYAHPUTRA ZAKARIA ILYAS"),
		prefixM: w("TEUKU"),
		prefixF: []string{"CUT", "CUT NYAK"},
		pPrefix: 0.05,
		pFamily: 0.7,
	},
	"madurese": {
		male:    w("SUKRI HASAN RASYID MARZUKI MATSALEH BUHARI MOH ABD SUHAMIN MATRAWI SAHRI JUMALI"),
		female:  w("SUMIATI MARFUAH HALIMAH SUNARYATI MISTIYAH RUKMINI SITTI MUSYAROFAH SUNIYAH HOLIFAH"),
		family:  w("HOSEN SALAM ASMORO SUTIKNO HARIYANTO ROFIQ"),
		pFamily: 0.45,
	},
	"muslim": {
		male:         w("MUHAMMAD AHMAD ABDUL RIZKI FAUZI KHAIRUL FAJAR ILHAM DIMAS ARIF YUSUF IBRAHIM HASAN RAHMAN NUR IMAM HAMZAH ZAINAL SYAIFUL RIDWAN HERMAN IRWAN"),
		female:       w("SITI NUR AMINAH FATIMAH AISYAH HALIMAH ZAINAB RINA NURUL KHADIJAH MARYAM HIDAYAH RAHMAWATI ANNISA FITRI DEWI YULIA RATNA"),
		family:       w("HIDAYAT RAMADHAN SYAHPUTRA HAKIM FIRDAUS HUDA ANWAR SAPUTRA MAULANA KURNIAWAN PRATAMA SETIAWAN ALI"),
		familyF:      w("NURHALIZA NURHASANAH HIDAYAH RAHMAWATI SARI FITRIANI WATI AMINAH"),
		pFamily:      0.7,
		pSecondGiven: 0.15,
	},
	"malay": {
		male:    w("SYAMSUDDIN ZAINAL AZHAR HAMDAN SYAFII RAJA WAN ISMAIL MAHMUD AMRAN RAZALI JAMIL"),
		female:  w("NURHALIZA ROSNAH ZUBAIDAH FARIDAH HASNAH SALMAH ROHANI MASITAH ZAITUN JULIANA"),
		family:  w("ABDULLAH HASSAN ISMAIL OSMAN YUSOF HAMID RAHMAN SAID"),
		prefixM: w("TENGKU"),
		prefixF: w("TENGKU"),
		pPrefix: 0.03,
		pFamily: 0.6,
	},
	"sasak": {
		male:    w("ZAENAL MUHAMMAD SAPARUDIN HASANUDIN MAHSUN AHMAD SUHAIMI JUNAIDI SAHNAN ZULHAN"),
		female:  w("NURUL SRI HIKMAH RABIAH NURHASANAH SAPIAH MAESARAH HAERUNNISA"),
		family:  w("AZHAR HAMDI JAYADI SAHNAN ROSIDI HAERUDIN"),
		prefixM: w("LALU"),
		prefixF: w("BAIQ"),
		pPrefix: 0.1,
		pFamily: 0.5,
	},
	"chinese": {
		male:               w("HENDRA BUDI ANDI YOHANES KEVIN MICHAEL SUSANTO WILLIAM STEVEN JOHAN RUDY HENDRIK"),
		female:             w("LINDA LILI SUSI MELIANA YENNY VERONIKA LISA AGNES MEILIN WINDA CYNTHIA"),
		family:             w("TAN LIM LIEM WIJAYA HALIM SALIM TANUJAYA KURNIAWAN GUNAWAN SETIADI HARTONO TJAHJADI SUGIANTO SANTOSO"),
		familyIsPatronymic: true,
	},
	"minahasa": {
		male:               w("JOHANIS FRANS JEMMY RONALD STENLY MEIKY DANNY REINHARD ARNOLD JOPIE"),
		female:             w("DEISY VONNY MERRY OLVIE GRACE RIBKA MARLIN NOVA SELVI JULIET"),
		family:             w("LUMOWA SONDAKH WOWOR PANGEMANAN MANDAGI RUMENGAN TUMBELAKA KAUNANG KAWENGIAN RONDONUWU SUPIT LASUT MAMAHIT WENAS"),
		familyIsPatronymic: true,
		pSecondGiven:       0.3,
	},
	"maluku": {
		male:               w("YOHANES AGUSTINUS PETRUS MARTHEN NUS ELIA ABDUL HAMID SALMON DOMINGGUS"),
		female:             w("MARIA YOHANA MARTHA SARLOTA RIA DORTJE RAHMA ONA NONCE"),
		family:             w("PATTIASINA LATUCONSINA TUHUMURY SAHETAPY LEATEMIA WATTIMENA TUASIKAL LATUMAHINA OHORELLA RUMAHLATU SOPACUA PATTIPEILOHY"),
		familyIsPatronymic: true,
	},
	"ntt": {
		male:               w("YOHANES FRANSISKUS MARKUS STEFANUS YOSEF AGUSTINUS PETRUS ALOYSIUS BERNADUS YAKOBUS"),
		female:             w("MARIA YULIANA ELISABETH KATARINA THERESIA MARGARETHA MAGDALENA FRANSISKA VERONIKA"),
		family:             w("BENU NDUN LAKE NOPE TEFA BANI AMALO KOLO BRIA SERAN MAU PARERA WOLO MANAFE ADOE"),
		familyIsPatronymic: true,
		pSecondGiven:       0.3,
	},
	"papua": {
		male:               w("YOHANES YAKOB MARKUS YULIUS MARTHEN LUKAS NIKOLAS OKTOVIANUS YUNUS FREDERIK"),
		female:             w("YOSINA MARIA AGUSTINA MINCE SELFINA RUTH NAOMI LEWINA YULIANA"),
		family:             w("WENDA KAMBU RUMBIAK KARUBABA MANDOWEN WANIMBO TABUNI MURIB KOGOYA WONDA YIKWA GOBAI PIGAI TEBAY MOTE AYOMI SAWAKI RUMBEWAS KAISIEPO"),
		familyIsPatronymic: true,
	},
	"dayak": {
		male:               w("YOHANES AGUSTINUS YAKOBUS PAULUS ANTONIUS LORENSIUS MARKUS YULIUS"),
		female:             w("KRISTINA MARIA VERONIKA ELISABET MARSELINA YULIANA SESILIA"),
		family:             w("AJANG LAING LAWING BILUNG USUP TINGANG NYARU DAGOK LAMBUNG LINGGA NGABUT"),
		familyIsPatronymic: true,
	},
	"banjar": {
		male:    w("MUHAMMAD AHMAD ABDUL GUSTI ANANG SYAHRANI RUSDI JUMBERI MASRANI FAHRURRAZI"),
		female:  w("SITI GALUH RUSMILAWATI HALIMAH JAMILAH MASNIAH RAHMAH NORHAYATI"),
		family:  w("NOOR ARSYAD HASAN RAHMAN YUSUF SYARIF RAMLI HUSIN"),
		pFamily: 0.6,
	},
}

// provinceCultures is the mix of naming traditions per province (weights).
var provinceCultures = map[string][]weighted{
	"11": {{"acehnese", 85}, {"muslim", 10}, {"javanese", 5}},
	"12": {{"batak", 55}, {"malay", 20}, {"javanese", 20}, {"chinese", 5}},
	"13": {{"minang", 90}, {"javanese", 5}, {"batak", 5}},
	"14": {{"malay", 50}, {"minang", 20}, {"javanese", 20}, {"batak", 10}},
	"15": {{"malay", 50}, {"javanese", 35}, {"minang", 15}},
	"16": {{"malay", 40}, {"muslim", 30}, {"javanese", 30}},
	"17": {{"muslim", 60}, {"javanese", 25}, {"minang", 15}},
	"18": {{"javanese", 60}, {"muslim", 35}, {"sundanese", 5}},
	"19": {{"malay", 60}, {"chinese", 30}, {"javanese", 10}},
	"21": {{"malay", 50}, {"javanese", 20}, {"batak", 15}, {"chinese", 15}},
	"31": {{"muslim", 40}, {"javanese", 30}, {"sundanese", 15}, {"chinese", 8}, {"batak", 7}},
	"32": {{"sundanese", 80}, {"javanese", 10}, {"muslim", 10}},
	"33": {{"javanese", 92}, {"muslim", 5}, {"chinese", 3}},
	"34": {{"javanese", 100}},
	"35": {{"javanese", 75}, {"madurese", 20}, {"chinese", 5}},
	"36": {{"sundanese", 50}, {"muslim", 30}, {"javanese", 20}},
	"51": {{"balinese", 90}, {"javanese", 10}},
	"52": {{"sasak", 85}, {"balinese", 10}, {"bugis", 5}},
	"53": {{"ntt", 95}, {"muslim", 5}},
	"61": {{"malay", 40}, {"dayak", 30}, {"chinese", 15}, {"javanese", 15}},
	"62": {{"dayak", 50}, {"banjar", 30}, {"javanese", 20}},
	"63": {{"banjar", 85}, {"javanese", 15}},
	"64": {{"banjar", 30}, {"bugis", 30}, {"javanese", 30}, {"dayak", 10}},
	"65": {{"dayak", 40}, {"bugis", 30}, {"javanese", 30}},
	"71": {{"minahasa", 90}, {"muslim", 10}},
	"72": {{"muslim", 50}, {"bugis", 30}, {"minahasa", 10}, {"javanese", 10}},
	"73": {{"bugis", 95}, {"chinese", 5}},
	"74": {{"muslim", 50}, {"bugis", 40}, {"javanese", 10}},
	"75": {{"muslim", 90}, {"minahasa", 10}},
	"76": {{"bugis", 70}, {"muslim", 30}},
	"81": {{"maluku", 90}, {"bugis", 10}},
	"82": {{"maluku", 60}, {"muslim", 40}},
}

// papuaCultures applies to the Papuan provinces (91-96).
var papuaCultures = []weighted{{"papua", 75}, {"javanese", 10}, {"bugis", 10}, {"maluku", 5}}

// provincePopulation is each province's population in 100,000s (BPS,
// about 2024): the share of registry rows it gets.
var provincePopulation = map[string]int{
	"11": 54, "12": 154, "13": 57, "14": 66, "15": 37, "16": 87, "17": 21, "18": 93, "19": 15, "21": 21,
	"31": 107, "32": 499, "33": 375, "34": 37, "35": 415, "36": 124, "51": 44, "52": 56, "53": 55,
	"61": 56, "62": 27, "63": 42, "64": 39, "65": 7, "71": 27, "72": 31, "73": 94, "74": 27, "75": 12, "76": 14,
	"81": 19, "82": 13, "91": 10, "92": 6, "93": 5, "94": 14, "95": 15, "96": 6,
}

type weighted struct {
	name   string
	weight int
}
