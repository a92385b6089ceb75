package pages

import (
	"strings"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
)

// What the client reads about their case, kept here as data rather than
// in the templates: one sentence for each step of the procedure (by its
// id in procedures/ipn-disputes-v1), each phase and each way a case ends,
// in the client's words. The procedure's own titles name roles the way
// members do ("the SPC"); a client reads "your support person", "the
// practitioner", "the group". A step this table does not know (a later
// version of the procedure) falls back to the procedure's title.

// nextStep is what a step that may be taken now means to the client.
type nextStep struct {
	// Sentence says what happens, and who does it, in the client's words.
	Sentence string
	// Yours says what to do, when the client may take the step.
	Yours string
	// Hidden steps are the group's own business (finding dates for a
	// meeting of all members, telling the link groups): they are not listed
	// under "what happens next".
	Hidden bool
	// Page is the page of the case where the client takes the step
	// (/{group}/cases/{case}/{Page}), and Do the link to it in "what you
	// need to do", for the steps the client may take.
	Page, Do string
}

// nextSteps are the steps that may be taken now, as the client reads them.
var nextSteps = map[string]nextStep{
	// The practitioner's support person, first on a new case's list, is
	// said as what it means for the client (fairness), not as a step of
	// the members' that might read as the group taking sides.
	"nominate_spt":                {Sentence: "The practitioner also gets a support person from the group, just as you do. This is usual: it keeps the process fair to you both."},
	"answer_spt_nomination":       {Sentence: "A member of the group says whether they can support the practitioner. This is usual: like you, the practitioner has someone to support them, so that the process is fair to you both."},
	"appoint_spc_and_lp":          {Sentence: "The group chooses your support person: a member who is not involved in your concern."},
	"inform_link_groups":          {Hidden: true},
	"propose_group_meeting_dates": {Hidden: true},
	"give_availability":           {Hidden: true},
	"confirm_group_meeting_date":  {Hidden: true},
	"offer_client_meeting":        {Sentence: "Your support person contacts you and offers to meet you."},
	"answer_client_meeting": {Sentence: "You say whether you would like to meet your support person.", Yours: "Say whether you would like to meet your support person at one of the times they offered, or ask for other times.",
		Page: "meetings", Do: "Answer your support person's offer to meet"},
	"write_statement": {Sentence: "Your support person writes down what your concern is and the outcome you would like, for you to check."},
	"answer_statement": {Sentence: "You read what your support person wrote down.", Yours: "Read what your support person wrote down, and say whether it is right or what should change.",
		Page: "written-statement", Do: "Read what your support person wrote down"},
	"convey_statement": {Sentence: "Your support person passes your concern to the practitioner, within the limits you set."},
	"record_response":  {Sentence: "The practitioner writes their response to your concern."},
	"relay_response":   {Sentence: "Your support person brings you the practitioner's response."},
	"decide": {Sentence: "You say whether the practitioner's response resolves your concern.", Yours: "Say whether the practitioner's response resolves your concern, and if not, whether you would like a meeting with them.",
		Page: "response", Do: "Read the practitioner's response"},
	"arrange_joint_meeting": {Sentence: "Your support person offers times for a meeting with you, the practitioner and the practitioner's support person."},
	"answer_joint_meeting": {Sentence: "Everyone invited to the meeting with the practitioner says which of the times offered they can make.", Yours: "Say which of the times offered for the meeting with the practitioner you can make.",
		Page: "meetings", Do: "Say which times you can meet the practitioner"},
	"confirm_joint_meeting":         {Sentence: "Your support person confirms when the meeting with the practitioner will be."},
	"record_joint_meeting_outcome":  {Sentence: "Your support person writes down how the meeting with the practitioner ended."},
	"report_progress":               {Sentence: "The group tells two other groups in the network how things stand, and asks for their help."},
	"record_link_group_issue":       {Hidden: true},
	"record_group_meeting_decision": {Sentence: "All the members of the group meet and decide what to do next."},
	"close_resolved":                {Sentence: "Your support person closes the case as resolved."},
	"close_unresolved":              {Sentence: "The group closes the case and writes down why it could not be resolved."},
	// The client may withdraw at any time; the page offers it on its own.
	"withdraw": {Hidden: true},
}

// stepDone says what a step taken means to the client, for the history of
// their case; by outcome where the outcome changes the sentence.
var stepDone = map[string]map[string]string{
	"answer_spt_nomination": {
		"ACCEPTED": "A member of the group agreed to support the practitioner.",
		"DECLINED": "The member asked to support the practitioner could not do it. The practitioner will ask someone else. This changes nothing for you.",
	},
	"appoint_spc_and_lp":   {"": "The group chose your support person."},
	"offer_client_meeting": {"": "Your support person offered to meet you."},
	"answer_client_meeting": {
		"ACCEPTED":    "You agreed a time to meet your support person.",
		"DECLINED":    "You chose not to meet your support person.",
		"OTHER_TIMES": "You asked your support person for other times to meet.",
	},
	"write_statement": {"": "Your support person wrote down your concern and the outcome you would like."},
	"answer_statement": {
		"APPROVED":          "You agreed what your support person wrote.",
		"CHANGES_REQUESTED": "You asked for changes to what your support person wrote.",
	},
	"convey_statement": {"": "Your support person passed your concern to the practitioner."},
	"record_response":  {"": "The practitioner responded to your concern."},
	"relay_response":   {"": "Your support person brought you the practitioner's response."},
	"decide": {
		"RESOLVED":      "You said the response resolves your concern.",
		"JOINT_MEETING": "You asked for a meeting with the practitioner.",
		"NOT_RESOLVED":  "You said your concern is not resolved.",
	},
	"arrange_joint_meeting": {"": "Your support person offered times for a meeting with the practitioner."},
	"answer_joint_meeting":  {"": "Someone invited to the meeting with the practitioner said which times they can make."},
	"confirm_joint_meeting": {"": "Your support person confirmed when the meeting with the practitioner will be."},
	"record_joint_meeting_outcome": {
		"RESOLVED":   "The meeting with the practitioner resolved your concern.",
		"UNRESOLVED": "The meeting with the practitioner did not resolve your concern.",
	},
	"report_progress":               {"": "The group asked two other groups in the network for their help."},
	"record_group_meeting_decision": {"": "All the members of the group met and decided what to do next."},
	"close_resolved":                {"": "Your case was closed as resolved."},
	"close_unresolved":              {"": "Your case was closed without being resolved."},
	"withdraw":                      {"": "You withdrew your concern."},
}

// yourStepDone says what a step means when the client took it, where the
// sentence for anyone's taking would not say it was them.
var yourStepDone = map[string]string{
	"answer_joint_meeting": "You said which times you can make for the meeting with the practitioner.",
}

// entryDone says what the timeline's entries that are not steps mean to
// the client, by their title: for the client's own doing, and for someone
// else's.
var entryDone = map[string]struct{ yours, theirs string }{
	"The client registered the concern":           {"You sent your concern.", "You sent your concern."},
	"A message was sent":                          {"You sent your support person a message.", "Your support person sent you a message."},
	"The SPC issued the client a new access code": {"You were given a new access code.", "Your support person gave you a new access code."},
}

// doneSentence is what a timeline entry means to the client.
func doneSentence(e *caseworkv1.TimelineEntry) string {
	if s, ok := entryDone[e.GetTitle()]; ok && e.GetStep() == "" {
		if e.GetActor() == "client" {
			return s.yours
		}
		return s.theirs
	}
	if s, ok := yourStepDone[e.GetStep()]; ok && e.GetActor() == "client" {
		return s
	}
	if byOutcome, ok := stepDone[e.GetStep()]; ok {
		if s, ok := byOutcome[e.GetOutcome()]; ok {
			return s
		}
		if s, ok := byOutcome[""]; ok {
			return s
		}
	}
	return clientWords(e.GetTitle())
}

// phaseSentence says where an open case stands.
var phaseSentence = map[procedurev1.Phase]string{
	procedurev1.Phase_PHASE_REGISTERED:        "We have your concern. The group is choosing your support person.",
	procedurev1.Phase_PHASE_SUPPORT_APPOINTED: "Your support person has been chosen. They will contact you.",
	procedurev1.Phase_PHASE_CLARIFYING:        "You and your support person are putting your concern in writing.",
	procedurev1.Phase_PHASE_WITH_THERAPIST:    "The practitioner is considering your concern.",
	procedurev1.Phase_PHASE_AWAITING_CLIENT:   "The practitioner has responded. It is for you to say whether this resolves your concern.",
	procedurev1.Phase_PHASE_JOINT_MEETING:     "A meeting with the practitioner is being arranged.",
	procedurev1.Phase_PHASE_ESCALATED:         "All the members of the group, with help from two other groups, are looking at your concern.",
}

// closedSentence says how a closed case ended.
var closedSentence = map[caseworkv1.Case_Outcome]string{
	caseworkv1.Case_OUTCOME_RESOLVED:   "Your concern was resolved, and the case is closed.",
	caseworkv1.Case_OUTCOME_WITHDRAWN:  "You withdrew your concern, and the case is closed.",
	caseworkv1.Case_OUTCOME_UNRESOLVED: "The case is closed. The group could not resolve your concern.",
}

// roleWords rewrites the procedure's names for roles into the client's:
// the API's explanations ("not yet: first the SPC has relayed the
// therapist's response") are written for members.
var roleWords = strings.NewReplacer(
	"the client's support person", "your support person",
	"the SPC and the LP have", "your support person has",
	"the SPC and the LP", "your support person",
	"the SPC", "your support person",
	"The SPC", "Your support person",
	"SPC", "your support person",
	"the LP", "the group",
	"The LP", "The group",
	"the liaison person", "the group",
	"The liaison person", "The group",
	"the SPT", "the practitioner's support person",
	"a support person for the therapist", "a support person for the practitioner",
	"the therapist's", "the practitioner's",
	"the therapist", "the practitioner",
	"The therapist", "The practitioner",
	"the client has", "you have",
	"The client", "You",
	"the client", "you",
)

// clientWords is a sentence of the API's in the client's words.
func clientWords(s string) string { return roleWords.Replace(s) }

// notReadyWords turns the API's explanation of a step that cannot be taken
// yet ("not yet: first the SPC has relayed the therapist's response") into
// a sentence for the client.
func notReadyWords(message string) string {
	first, ok := strings.CutPrefix(message, "not yet: first ")
	if !ok {
		return "This cannot be done yet."
	}
	return "This cannot be done yet. First, " + clientWords(first) + "."
}

// doneBanners are what the page a step leads back to says at the top (the
// query's done): what was done, and what happens next. Important is for a
// notice that is not a success.
var doneBanners = map[string]banner{
	"meeting-accepted": {Title: "You have accepted a time to meet",
		Next: "Your support person knows. You can add the meeting to your calendar below."},
	"other-times": {Title: "You have asked for other times",
		Next: "Your support person will offer new times. If you like, tell them below which days and times suit you."},
	"meeting-declined": {Title: "You have said you would rather not meet",
		Next: "That is fine. Your support person will write down your concern from what you have told them, for you to read. You can still send them messages."},
	"joint-answered": {Title: "Your answer has been sent",
		Next: "Your support person will confirm a time once everyone has answered. You can change your answer until then."},
	"approved": {Title: "You have approved what your support person wrote",
		Next: "Your support person will now pass it to the practitioner, within the limits you set. When the practitioner has responded, your support person will bring you their response."},
	"changes": {Title: "You have asked for changes",
		Next: "Your support person will write a new version for you to read. It will be on this page."},
	"new-version": {Title: "There is a new version", Important: true,
		Next: "Your support person wrote a new version while you were answering. Please read it, then answer again."},
	"decided-RESOLVED":      {Title: "You have said that your concern is resolved", Next: decisions[0].Next},
	"decided-JOINT_MEETING": {Title: "You have asked to meet the practitioner", Next: decisions[1].Next},
	"decided-NOT_RESOLVED":  {Title: "You have said that your concern is not resolved", Next: decisions[2].Next},
	"message-sent": {Title: "Your message has been sent",
		Next: "Your support person will read it and reply here. If you gave us an email address, we will email you when they do."},
}
