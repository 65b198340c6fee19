"""A small retrieval test set: 20 short documents of an imaginary company, and 30 questions, each with
the document that answers it. Questions are worded as staff ask them, not copied from the text."""

DOCUMENTS = {
    "billing-guide.md": "# Billing\n\nInvoices are sent on the first working day of every month by e-mail. "
    "Refunds are paid within fourteen days after the finance desk approves the refund form. "
    "Late payments are charged two percent interest per month.",
    "holiday-policy.md": "# Holidays\n\nEvery employee has twenty-five days of paid leave a year. Leave is requested "
    "in the staff portal at least two weeks ahead, and the team lead approves it. Unused days expire in April.",
    "parking.txt": "Parking permits for the garage under the office are issued by reception. A permit is valid for "
    "one calendar year. Visitors park on level minus two and register their licence plate at the desk.",
    "expenses.md": "# Expenses\n\nTravel costs are reimbursed when the receipt is uploaded within thirty days. "
    "Train travel is second class; flights need the director's approval. Meals abroad are paid per diem.",
    "security.md": "# Information security\n\nPasswords must be at least fourteen characters and are never shared. "
    "Lost laptops are reported to the service desk within one hour. Two-factor authentication is required.",
    "onboarding.md": "# First day\n\nNew colleagues collect their badge and laptop from facilities at nine. "
    "A buddy shows them around and the introduction training is on the first Thursday.",
    "sick-leave.txt": "When you are ill, call your manager before ten in the morning. From the third day of "
    "illness a doctor's note is needed. The occupational physician contacts you after two weeks.",
    "remote-work.md": "# Working from home\n\nStaff may work from home three days a week. The company pays a monthly "
    "allowance of twenty euros for internet, and a desk chair once every five years.",
    "printing.txt": "Printers are on every floor next to the kitchen. Print jobs are released with your badge. "
    "Colour printing is limited to two hundred pages a month per person.",
    "meeting-rooms.md": "# Meeting rooms\n\nRooms are booked in the calendar. The large boardroom seats twenty and "
    "has a video conferencing system; cancel a booking you do not need so others can use it.",
    "pension.md": "# Pension\n\nThe employer pays two thirds of the pension premium. Employees join the pension "
    "fund on their first day and receive a yearly statement of their accrued benefits.",
    "training-budget.md": "# Learning\n\nEvery employee has a personal training budget of fifteen hundred euros a "
    "year for courses, conferences and books. Certificates are registered with human resources.",
    "fire-safety.txt": "In case of fire, leave the building by the nearest emergency exit and gather at the "
    "assembly point in the car park. Do not use the lifts. Emergency response officers wear orange vests.",
    "bike-scheme.md": "# Cycling\n\nThe bicycle plan lets you buy a bike through the payroll, tax free, up to "
    "two thousand euros, once every three years. Secure bike storage is next to the main entrance.",
    "salary.md": "# Pay\n\nSalaries are paid on the twenty-fifth of each month. The holiday allowance of eight "
    "percent is paid in May, and the thirteenth month in December.",
    "it-support.txt": "The service desk is open from eight to six on working days. Report problems through the "
    "self-service portal or call extension 4400. Software requests need your manager's approval.",
    "canteen.md": "# Canteen\n\nLunch is served between twelve and two. Vegetarian and vegan dishes are available "
    "every day; the menu of the week is posted on the intranet on Fridays.",
    "performance-review.md": "# Reviews\n\nPerformance conversations take place twice a year, in June and December. "
    "Goals are agreed with your manager and recorded in the HR system.",
    "whistleblowing.md": "# Reporting misconduct\n\nSuspected fraud or misconduct can be reported anonymously to the "
    "confidential adviser. Reporters are protected against retaliation.",
    "mobile-phones.txt": "Employees who are on call receive a company smartphone. Private use is allowed within "
    "reason. A broken phone is exchanged at the IT service desk.",
}

QUESTIONS = [
    ("How long does it take to get my money back?", "billing-guide.md"),
    ("When do invoices go out?", "billing-guide.md"),
    ("How many vacation days do I get?", "holiday-policy.md"),
    ("Who approves my time off request?", "holiday-policy.md"),
    ("Where do I get a garage permit?", "parking.txt"),
    ("Where should guests leave their car?", "parking.txt"),
    ("How do I get my travel costs reimbursed?", "expenses.md"),
    ("Can I take a plane for a business trip?", "expenses.md"),
    ("How long must my password be?", "security.md"),
    ("I lost my laptop, what now?", "security.md"),
    ("Where do I pick up my badge on the first day?", "onboarding.md"),
    ("I am ill, whom do I call?", "sick-leave.txt"),
    ("When do I need a doctor's note?", "sick-leave.txt"),
    ("How many days may I work from home?", "remote-work.md"),
    ("Is there an allowance for my internet at home?", "remote-work.md"),
    ("How do I release a print job?", "printing.txt"),
    ("How do I reserve the boardroom?", "meeting-rooms.md"),
    ("How much of the pension premium does the employer pay?", "pension.md"),
    ("What is my budget for courses and conferences?", "training-budget.md"),
    ("Where is the assembly point during a fire?", "fire-safety.txt"),
    ("Can I use the lift when there is a fire?", "fire-safety.txt"),
    ("Can I buy a bicycle through my salary?", "bike-scheme.md"),
    ("When is the salary paid?", "salary.md"),
    ("When do I receive the holiday allowance?", "salary.md"),
    ("What are the opening hours of the service desk?", "it-support.txt"),
    ("Are there vegan meals at lunch?", "canteen.md"),
    ("When are the performance reviews?", "performance-review.md"),
    ("How do I report fraud anonymously?", "whistleblowing.md"),
    ("Who gets a company phone?", "mobile-phones.txt"),
    ("My work phone is broken, where can I swap it?", "mobile-phones.txt"),
]
