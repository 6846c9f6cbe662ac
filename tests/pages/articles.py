"""Articles and tail items written for this project's labelled test set (original text).

Each article is a title and a list of blocks: ``("p", text)``, ``("h2", text)``,
``("ul", [items])``, ``("quote", text)``. ``build.py`` renders them into page files of
several template families and writes the expected title, body and tail beside each page.
"""

ARTICLES = {
    "mill-race": (
        "Town votes to restore the old mill race",
        [
            ("p", "Residents of Harlow Bridge voted 412 to 198 on Saturday to restore the stone mill race that once carried water from the Ashby River to the town's grain mill, ending a two-year argument over whether the channel was a heritage site or a flood risk."),
            ("p", "The race, dug by hand in the 1840s, has been dry since a landslide blocked its intake in 1974. Ferns and sycamore saplings now grow from its walls, and children use the deepest stretch as a shortcut to the primary school."),
            ("p", "Supporters argued that a working race would draw visitors to the mill museum and could power a small turbine. \"Water ran through this town for a hundred and thirty years,\" said Margaret Ellery, who chairs the restoration group. \"We are only asking it to come back.\""),
            ("h2", "Costs and flood worries"),
            ("p", "Opponents, many of them owners of houses on Mill Lane, worried that a restored channel would overflow in winter storms. The council's engineer told the meeting that new sluice gates would let the race be closed when the river runs high, and that the estimate of 380,000 pounds includes a spillway back to the river."),
            ("p", "Work is expected to start in the spring, once nesting season ends, and to take about eighteen months. The town will apply for a heritage lottery grant to cover half the cost."),
        ],
    ),
    "night-trains": (
        "Night trains return to the northern line",
        [
            ("p", "Sleeper trains will run again between the capital and the northern ports from December, the rail operator announced on Wednesday, eleven years after the last overnight service was withdrawn for lack of passengers."),
            ("p", "The new service will leave at 22:40 and arrive at 07:15, with stops at four junction towns. Each train will carry two sleeping cars with private cabins, one couchette car and a seated coach for travellers on a budget."),
            ("p", "Ticket sales for the first month opened at noon and the cabins sold out within three hours, according to the operator. Seats in the couchette car are still available on most dates."),
            ("p", "Rail campaigners said the return showed a change in travel habits. Flights on the same route have been cut back since the regional airport raised its fees, and many business travellers say they would rather sleep on a train than drive at dawn."),
            ("quote", "\"A night train turns a lost day into a good night's sleep,\" said Tomas Varga of the Passenger Rail Alliance."),
            ("p", "The operator has leased the rolling stock for five years and will review the timetable after the first winter."),
        ],
    ),
    "tool-library": (
        "How a library learned to lend tools",
        [
            ("p", "When the public library in Eastfield began lending power drills three years ago, the librarians expected a few curious borrowers. Today the tool collection has 640 items, from pressure washers to sewing machines, and a waiting list for the tile cutter."),
            ("p", "The idea came from a patron who had bought a wallpaper steamer for a single weekend and wanted to donate it. Staff put it on the catalogue as an experiment. It was borrowed eleven times in the first two months."),
            ("h2", "What people borrow"),
            ("p", "The most popular items are the ones people need once a year: hedge trimmers in June, a carpet cleaner before the holidays, a ladder when the gutters fill. Borrowers must attend a short safety session before taking anything with a blade."),
            ("ul", ["Cordless drills and drivers", "Garden tools and a leaf blower", "A sewing machine and an overlocker", "Camping stoves and tents"]),
            ("p", "Librarians say the tools bring in people who had not held a library card in years. Many of them leave with a book on the project they are about to start."),
            ("p", "Repairs are done by volunteers at a monthly fix-it evening, which has become a social event in its own right."),
        ],
    ),
    "heat-pumps": (
        "Heat pumps in cold climates: what the field trials show",
        [
            ("p", "A three-winter field trial of air-source heat pumps in mountain villages found that the systems kept homes warm at outdoor temperatures as low as minus 22 degrees, but that their efficiency fell by almost half on the coldest nights."),
            ("p", "Researchers fitted 48 houses with monitoring equipment and compared the electricity the pumps used with the heat they delivered. Over a whole season the average coefficient of performance was 2.6, meaning each unit of electricity delivered 2.6 units of heat."),
            ("p", "The best results came from houses that had been insulated before the pumps were installed. In draughty older buildings the pumps ran almost continuously and the backup electric heaters switched on more often."),
            ("h2", "Advice for installers"),
            ("p", "The report recommends sizing the outdoor unit for the coldest week of the year rather than the average winter day, and placing it away from snowdrifts and the drip line of roofs. Defrost cycles, which briefly reverse the pump to clear ice, were the main cause of complaints about noise."),
            ("p", "The trial's authors say the technology is ready for cold regions, provided that homes are prepared first and owners understand that bills will rise during cold snaps."),
        ],
    ),
    "rye-bakers": (
        "Apprentice bakers revive a rye tradition",
        [
            ("p", "In a bakery at the edge of the old market square, four apprentices are learning to bake a dark rye loaf that had almost disappeared from the region's shops. The bread needs a sourdough started two days ahead and eleven hours in a cooling wood oven."),
            ("p", "The master baker, Ilse Brandt, learned the recipe from her grandfather and feared it would end with her. A training grant from the crafts chamber now pays the apprentices' wages for their first year."),
            ("p", "Each morning the apprentices feed the starter, mix the dough with cracked rye and caraway, and shape loaves that weigh two kilos each. Mistakes are common: a loaf taken out an hour early is gummy inside, and one left too long cracks open."),
            ("p", "Customers queue on Saturdays for the finished bread, which keeps for more than a week. Brandt says the young bakers have begun experimenting with seeds and smaller loaves for single households."),
            ("p", "The bakery plans to open its doors for a rye festival in October, with tastings and a demonstration of the oven being fired."),
        ],
    ),
    "king-tides": (
        "Coastal town braces for king tides",
        [
            ("p", "Shopkeepers on the harbour front in Port Avel stacked sandbags on Thursday as forecasters warned that this weekend's king tides, the highest of the year, could coincide with a storm surge from the west."),
            ("p", "The tides, caused by the alignment of the sun and moon when the moon is closest to the Earth, are expected to peak at 4.9 metres on Saturday morning, about forty centimetres above the level that floods the lower streets."),
            ("p", "The town council has closed the sea-front car park and moved its mobile flood barriers into place along the promenade. Residents of the low-lying Quay district have been advised to move valuables upstairs."),
            ("p", "Flooding from high tides has become more frequent in the past decade. The harbour master recorded twelve tidal floods last year, compared with three a year in the 1990s, and the council has commissioned a study of a permanent barrier across the harbour mouth."),
            ("p", "Emergency shelters will open at the sports hall from Friday evening for anyone whose home is flooded."),
        ],
    ),
    "senior-chess": (
        "Chess club for seniors outgrows its room",
        [
            ("p", "The Tuesday chess club at the Riverside community centre started four years ago with six players and two boards. It now has fifty-three members, a waiting list, and a problem: the room holds only twenty."),
            ("p", "Most members are retired, and many had not played since school. The club's founder, a former maths teacher named Rafael Ortiz, says the game gives people a reason to leave the house and a puzzle to think about for the rest of the week."),
            ("p", "The club has asked the council for the use of the main hall on Tuesday afternoons, which is currently booked by a dance class. A decision is expected next month."),
            ("p", "In the meantime the members play in two shifts, and the overflow has started meeting at a café across the road, which lends them its back room in exchange for a pot of tea per table."),
        ],
    ),
    "winter-routes": (
        "Regional airline cuts winter routes",
        [
            ("p", "Skyrail Regional will suspend six domestic routes between November and March, the airline said on Monday, blaming higher airport charges and a shortage of pilots qualified on its turboprop fleet."),
            ("p", "The cuts affect flights from the two island airports, where the airline is the only carrier in winter. Island councils said the decision would leave residents depending on a ferry that takes nine hours and does not sail in strong winds."),
            ("p", "The airline's chief executive said the routes lost money every winter and that the company could no longer cross-subsidise them from summer profits. She said the routes would return in April."),
            ("p", "Regional politicians have asked the transport ministry to treat the island flights as a public service and put them out to tender with a subsidy, as is done for the ferry."),
            ("p", "Passengers with bookings on the suspended flights will be offered refunds or a free change to another date."),
        ],
    ),
    "lake-wrecks": (
        "Volunteer divers map a lake's lost shipwrecks",
        [
            ("p", "A group of volunteer divers has located nine wrecks on the bed of Lake Morrow, including a paddle steamer that sank in a gale in 1891 with a cargo of slate."),
            ("p", "The divers used a side-scan sonar borrowed from a university to survey the deepest part of the lake over two summers, then dived on each target to photograph and measure it. The cold fresh water has preserved the wooden hulls far better than sea water would have."),
            ("p", "The paddle steamer lies upright at a depth of 41 metres, its paddle wheels still attached. The divers found the ship's bell in the silt beside the bow and left it in place, as the law protecting historic wrecks requires."),
            ("p", "The survey's maps and photographs will be shown at the lake's visitor centre this winter. The group hopes to raise money for a permanent display and for moorings that would stop boats dropping anchor on the wrecks."),
        ],
    ),
    "four-day-week": (
        "School trials a four-day week",
        [
            ("p", "Greystone Secondary School will teach on only four days a week from September, in a two-year trial that the head teacher says is meant to help the school keep its staff."),
            ("p", "The school day will be longer on Monday to Thursday, so pupils will spend the same number of hours in lessons. Fridays will be used for sports clubs, music, catch-up sessions and teacher training, and attendance will be optional for most pupils."),
            ("p", "Parents are divided. Some welcome the long weekend; others, especially those who work on Fridays, worry about childcare. The school will run a supervised day for pupils whose parents ask for it."),
            ("p", "Three of the school's science teachers left last year for jobs with shorter commutes, and the head says two posts have been advertised four times without a suitable applicant."),
            ("p", "The education authority will compare exam results, attendance and staff turnover with similar schools before deciding whether other schools may follow."),
        ],
    ),
    "beekeepers": (
        "Beekeepers report a better season",
        [
            ("p", "Beekeepers in the valley had their best honey harvest in six years, according to a survey by the regional beekeeping association, after a warm spring and a wet but mild summer kept flowers blooming for longer."),
            ("p", "The average hive produced 23 kilos of honey, up from 14 kilos last year. Winter losses were also lower, with fewer colonies lost to the varroa mite, which members treated earlier in the season following the association's advice."),
            ("p", "Lime trees along the river and fields of phacelia sown by farmers as a cover crop were the main sources of nectar. Several members said their bees were still bringing in pollen in late October."),
            ("p", "The association will hold its annual honey show next month, with classes for clear, set and comb honey and a prize for the best beeswax candle."),
        ],
    ),
    "bike-lanes": (
        "City council approves protected bike lanes",
        [
            ("p", "The city council voted 27 to 14 on Tuesday night to build protected bike lanes on three of the city's busiest streets, separating cyclists from traffic with concrete kerbs and planters."),
            ("p", "The lanes will run along Station Road, the Crescent and King Street, linking the university with the central station. Parking on one side of each street will be removed to make room, which drew protests from several shop owners."),
            ("p", "A traffic count last spring found that more than three thousand cyclists used Station Road on a weekday, despite the lack of any lane. Collisions involving cyclists on the three streets rose from eight in 2021 to nineteen last year."),
            ("p", "Construction is due to start next summer. The council will monitor deliveries and trade at affected shops and has promised loading bays at each block."),
        ],
    ),
    "mediatheque": (
        "La médiathèque ouvre désormais le dimanche",
        [
            ("p", "La médiathèque municipale de Saint-Aubin ouvrira ses portes le dimanche après-midi à partir du mois prochain, une première dans le département pour un établissement de cette taille."),
            ("p", "L'ouverture dominicale, de 14 heures à 18 heures, sera assurée par une équipe de six agents volontaires, rémunérés en heures majorées. La mairie estime que le coût annuel sera d'environ quarante mille euros."),
            ("p", "Les usagers réclamaient cette ouverture depuis longtemps, en particulier les familles et les étudiants qui travaillent en semaine. Un questionnaire distribué au printemps a recueilli plus de huit cents réponses favorables."),
            ("p", "Des ateliers de lecture pour enfants et des concerts acoustiques seront proposés certains dimanches."),
        ],
    ),
}

# Unrelated "related" items of the kind content farms and widget networks serve.
TAIL_ITEMS = [
    ("Ten gadgets that will change your kitchen", "From smart scales to silent blenders, these picks...", "https://news.example/shopping/kitchen-gadgets"),
    ("Celebrity couple shows off their beach house", "The pair opened the doors of their seaside retreat...", "https://news.example/celebrity/beach-house"),
    ("Why investors are watching this small stock", "Analysts say the company could double its sales...", "https://news.example/markets/small-stock"),
    ("Doctors urge people to check this common vitamin", "A deficiency is more common than many think...", "https://news.example/health/vitamin-check"),
    ("The best hiking boots of the year, tested", "We walked two hundred miles to find the most comfortable...", "https://news.example/outdoors/hiking-boots"),
    ("Football club appoints new head coach", "The former assistant takes charge after a difficult season...", "https://news.example/sport/new-coach"),
    ("How to lower your energy bill this winter", "Small changes around the house can add up to big savings...", "https://news.example/money/energy-bill"),
    ("Streaming service raises prices again", "Subscribers will pay more from next month as the platform...", "https://news.example/tech/streaming-prices"),
    ("Five cities where rents are falling", "Tenants in these places are finally getting a break...", "https://news.example/property/rents-falling"),
    ("Actor opens up about his years on the stage", "In a candid interview the star recalls the roles that...", "https://news.example/culture/actor-interview"),
    ("Scientists spot a strange signal from deep space", "Radio astronomers cannot yet explain the repeating burst...", "https://news.example/science/space-signal"),
    ("Retail chain to close forty stores", "The company blamed online competition and rising rents...", "https://news.example/business/store-closures"),
    ("The one stretch you should do every morning", "Physiotherapists say this simple move can ease back pain...", "https://news.example/health/morning-stretch"),
    ("Travel: the quiet islands tourists have not found", "Skip the crowds with these lesser-known destinations...", "https://news.example/travel/quiet-islands"),
    ("Crypto prices swing after regulator's warning", "Digital currencies fell sharply before recovering most...", "https://news.example/markets/crypto-swing"),
    ("Recipe: a weeknight pasta in fifteen minutes", "This simple sauce uses pantry staples and a handful of...", "https://news.example/food/weeknight-pasta"),
    ("Tennis star withdraws from final with injury", "The top seed pulled out an hour before the match...", "https://news.example/sport/tennis-withdraws"),
    ("Smartphone makers race to fold their screens", "A new generation of folding phones arrives this autumn...", "https://news.example/tech/folding-phones"),
    ("What your sleep position says about you", "Experts weigh in on the habits of side and back sleepers...", "https://news.example/lifestyle/sleep-position"),
    ("Pop singer announces a world tour", "Fans will be able to buy tickets from Friday morning...", "https://news.example/culture/world-tour"),
    ("Garden trend: replace your lawn with clover", "Homeowners are swapping grass for a greener ground cover...", "https://news.example/home/clover-lawn"),
    ("Car maker recalls thousands of vehicles", "A faulty seat belt sensor could fail in a collision...", "https://news.example/motoring/recall"),
    ("The salary you need to live comfortably in the city", "A new study puts a number on a comfortable life...", "https://news.example/money/salary-study"),
    ("Museum returns stolen statue after decades", "The bronze figure was taken during a burglary in...", "https://news.example/culture/statue-returned"),
]
