"""Articles written for the tests, shared by the summariser and the consistency-checker tests."""

FERRY_ARTICLE = (
    "Harbour town opens new ferry terminal\n"
    "The small harbour town of Eastmere opened a new ferry terminal on Monday after two years of building "
    "work. "
    "The terminal can handle four ferries at once and replaces a wooden pier that dated from 1952.\n"
    "Town officials said the project cost 12 million euros, most of it paid by a regional development fund. "
    "Local shop owners hope the terminal will bring more summer visitors to the town."
)
