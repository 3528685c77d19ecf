/* Names of many countries and scripts, so that generated data has
 * accented letters, other alphabets and company forms as real counterparty
 * lists do. */
#include "gen_words.h"

#define LIST(name, ...)                                                        \
  static const char *const name##_w[] = {__VA_ARGS__};                         \
  const gen_words name = {name##_w, sizeof name##_w / sizeof *name##_w}

LIST(gen_first_names, "James", "Mary", "John", "Patricia", "Robert", "Jennifer",
     "Michael", "Linda", "William", "Elizabeth", "David", "Barbara", "Richard",
     "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
     "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark",
     "Margaret", "Steven", "Sandra", "Paul", "Ashley", "Andrew", "Emily",
     "Kenneth", "Donna", "Joshua", "Michelle", "Kevin", "Carol", "Brian",
     "Amanda", "George", "Melissa", "Edward", "Deborah", "Hans", "Anna",
     "Klaus", "Ursula", "Jürgen", "Petra", "Stefan", "Sabine", "Wolfgang",
     "Monika", "Pierre", "Marie", "François", "Céline", "Jean", "Amélie",
     "Renée", "Hélène", "Giuseppe", "Giulia", "Marco", "Francesca", "Luca",
     "Chiara", "José", "María", "Ángel", "Lucía", "Javier", "Carmen", "João",
     "Conceição", "Søren", "Ingrid", "Björn", "Åsa", "Lars", "Sigrid", "Łukasz",
     "Małgorzata", "Piotr", "Agnieszka", "Jiří", "Tereza", "Ivan", "Olga",
     "Dmitri", "Natalia", "Mehmet", "Ayşe", "Çağla", "Ahmet", "Zoë", "Chloé",
     "Noël", "Raphaël", "Wei", "Li", "Hiroshi", "Yuki", "Kenji", "Sakura",
     "Arjun", "Priya", "Rahul", "Ananya", "Kwame", "Amara", "Chinedu", "Fatima",
     "Omar", "Layla", "Youssef", "Nour", "Sean", "Siobhán", "Niamh", "Eoin",
     "Αλέξανδρος", "Ελένη", "Дмитрий", "Анна");

LIST(gen_surnames, "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller",
     "Davis", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Martin",
     "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson",
     "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker",
     "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter",
     "Phillips", "Evans", "Turner", "Parker", "Collins", "Edwards", "Stewart",
     "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson",
     "Reed", "Bailey", "Bell", "Kelly", "Howard", "O'Brien", "O'Connor",
     "McDonald", "MacLeod", "Fitzgerald", "Gallagher", "Müller", "Schmidt",
     "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
     "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
     "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger",
     "Hofmann", "Hartmann", "Lange", "Dubois", "Lefèvre", "Moreau", "Laurent",
     "Simon", "Michel", "Garnier", "Rousseau", "Fontaine", "Chevalier", "Rossi",
     "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
     "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "García",
     "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
     "Pérez", "Gómez", "Núñez", "Jiménez", "Muñoz", "Álvarez", "Romero",
     "Silva", "Santos", "Oliveira", "Gonçalves", "Pereira", "Costa", "Carvalho",
     "Almeida", "Andersen", "Nielsen", "Hansen", "Pedersen", "Østergaard",
     "Johansson", "Karlsson", "Nilsson", "Eriksson", "Lindström", "Håkansson",
     "Virtanen", "Korhonen", "Mäkinen", "Nowak", "Kowalski", "Wiśniewski",
     "Wójcik", "Kowalczyk", "Kamiński", "Zieliński", "Dvořák", "Novák",
     "Svoboda", "Černý", "Horváth", "Nagy", "Tóth", "Kovačević", "Šimić",
     "Petrović", "Jovanović", "Ivanov", "Smirnov", "Kuznetsov", "Popov",
     "Volkov", "Öztürk", "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik",
     "Papadopoulos", "Georgiou", "Nikolaidis", "Cohen", "Levi", "Mizrahi",
     "Haddad", "Khalil", "Nasser", "Mansour", "Wang", "Zhang", "Chen", "Liu",
     "Huang", "Zhao", "Tanaka", "Suzuki", "Takahashi", "Watanabe", "Yamamoto",
     "Nakamura", "Kim", "Lee", "Park", "Choi", "Nguyen", "Tran", "Pham",
     "Patel", "Sharma", "Singh", "Gupta", "Kumar", "Reddy", "Okafor", "Mensah",
     "Okonkwo", "Diallo", "Traoré", "Van der Berg", "De Jong", "Jansen",
     "Visser", "Van Dijk", "Bakker", "Παπαδόπουλος", "Ιωάννου", "Иванов",
     "Петров", "Соколов", "田中", "鈴木", "王", "李");

LIST(gen_trades, "Logistics", "Trading", "Capital", "Foods", "Shipping",
     "Consulting", "Textiles", "Pharma", "Engineering", "Software", "Metals",
     "Energy", "Imports", "Exports", "Partners", "Brothers", "Insurance",
     "Realty", "Mining", "Chemicals", "Agro", "Motors", "Electronics",
     "Holdings", "Ventures", "Media", "Solutions", "Systems", "Industries",
     "Packaging", "Marine", "Aviation", "Steel", "Paper", "Furniture", "Dairy",
     "Wines", "Construction", "Investments", "Securities", "Freight", "Bakery",
     "Optics", "Plastics", "Timber", "Seafood", "Transport", "Finance",
     "Medical", "Telecom");

LIST(gen_suffixes, "Ltd", "Limited", "Inc", "Inc.", "LLC", "GmbH", "AG", "S.A.",
     "S.p.A.", "S.r.l.", "B.V.", "N.V.", "PLC", "Pty Ltd", "Co.", "Corp.",
     "Corporation", "SARL", "SAS", "Oy", "AB", "A/S", "K.K.", "GmbH & Co. KG",
     "Group", "Holding", "S.L.", "Sp. z o.o.", "s.r.o.", "Kft.", "A.Ş.", "ООО",
     "株式会社");

LIST(gen_countries, "US", "GB", "DE", "FR", "IT", "ES", "PT", "NL", "BE", "CH",
     "AT", "DK", "SE", "NO", "FI", "PL", "CZ", "HU", "HR", "RS", "GR", "TR",
     "RU", "CN", "JP", "KR", "VN", "IN", "NG", "GH", "SN", "EG", "IL", "AE",
     "BR", "MX", "AR", "CA", "AU", "IE");
