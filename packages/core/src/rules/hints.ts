/**
 * Attribution hints: words in a reply, and host or domain names, that reveal which mailbox provider
 * or filter answered, and which DNS blocklist a reply names. Used by the classifier in the same
 * single scan as the rules' keywords.
 */

/** Text fragment (lower-case) -> provider. */
export const PROVIDER_TEXT_HINTS: ReadonlyArray<readonly [string, string]> = [
  ['gsmtp', 'gmail'], ['support.google.com', 'gmail'], ['google.com', 'gmail'], ['googlemail.com', 'gmail'], ['gmail', 'gmail'],
  ['protection.outlook.com', 'microsoft'], ['outlook.com', 'microsoft'], ['hotmail', 'microsoft'], ['mail.live.com', 'microsoft'], ['go.microsoft.com', 'microsoft'],
  ['aka.ms/', 'microsoft'], ['sender.office.com', 'microsoft'], ['messaging.microsoft.com', 'microsoft'], ['postmaster.live.com', 'microsoft'], ['storedrv.', 'microsoft'], ['resolver.adr.', 'microsoft'],
  ['yahoo', 'yahoo'], ['yahoodns.net', 'yahoo'], ['mail.aol.com', 'yahoo'], ['aol.com', 'yahoo'],
  ['icloud.com', 'apple'], ['support.apple.com', 'apple'],
  ['protonmail', 'proton'], ['proton.me', 'proton'], ['proton.ch', 'proton'],
  ['gmx.net', 'gmx'], ['gmx.de', 'gmx'], ['gmx.com', 'gmx'], ['(mxgmx', 'gmx'], ['web.de', 'webde'], ['(mxweb', 'webde'],
  ['mail.ru', 'mailru'], ['inbox.ru', 'mailru'],
  ['yandex', 'yandex'], ['ya.cc/', 'yandex'],
  ['qq.com', 'qq'], ['foxmail', 'qq'],
  ['163.com', 'netease'], ['126.com', 'netease'], ['netease', 'netease'], ['yeah.net', 'netease'],
  ['zoho', 'zoho'],
  ['mimecast', 'mimecast'],
  ['pphosted', 'proofpoint'], ['ppe-hosted', 'proofpoint'], ['proofpoint', 'proofpoint'],
  ['barracudanetworks.com', 'barracuda'], ['barracuda.com', 'barracuda'], ['cudamail', 'barracuda'],
  ['iphmx.com', 'cisco-ironport'], ['ironport', 'cisco-ironport'],
  ['comcast.net', 'comcast'],
  ['orange.fr', 'orange'], ['wanadoo.fr', 'orange'], ['ofr_', 'orange'], ['mwinf', 'orange'],
  ['t-online.de', 't-online'], ['att.net', 'att'], ['sbcglobal.net', 'att'], ['verizon.net', 'verizon'],
  ['libero.it', 'libero'], ['seznam.cz', 'seznam'], ['naver.com', 'naver'], ['daum.net', 'daum'],
  ['messagelabs', 'symantec'], ['fireeyecloud', 'trellix'], ['trendmicro', 'trendmicro'], ['sophos', 'sophos'], ['spamexperts', 'spamexperts'],
]

/** Host or domain suffix -> provider, for `context.remoteMta` and `context.recipientDomain`. */
export const PROVIDER_DOMAIN_HINTS: ReadonlyArray<readonly [string, string]> = [
  ['gmail.com', 'gmail'], ['googlemail.com', 'gmail'], ['google.com', 'gmail'], ['l.google.com', 'gmail'],
  ['outlook.com', 'microsoft'], ['hotmail.com', 'microsoft'], ['live.com', 'microsoft'], ['msn.com', 'microsoft'], ['passport.com', 'microsoft'],
  ['protection.outlook.com', 'microsoft'], ['hotmail.co.uk', 'microsoft'], ['hotmail.fr', 'microsoft'], ['hotmail.de', 'microsoft'], ['live.co.uk', 'microsoft'], ['outlook.jp', 'microsoft'],
  ['yahoo.com', 'yahoo'], ['yahoodns.net', 'yahoo'], ['ymail.com', 'yahoo'], ['rocketmail.com', 'yahoo'], ['aol.com', 'yahoo'], ['aim.com', 'yahoo'], ['yahoo.co.jp', 'yahoo-japan'],
  ['yahoo.co.uk', 'yahoo'], ['yahoo.fr', 'yahoo'], ['yahoo.de', 'yahoo'], ['yahoo.it', 'yahoo'], ['yahoo.es', 'yahoo'], ['yahoo.com.br', 'yahoo'], ['yahoo.ca', 'yahoo'], ['yahoo.in', 'yahoo'],
  ['icloud.com', 'apple'], ['me.com', 'apple'], ['mac.com', 'apple'], ['mail.icloud.com', 'apple'],
  ['proton.me', 'proton'], ['protonmail.com', 'proton'], ['protonmail.ch', 'proton'], ['pm.me', 'proton'],
  ['gmx.net', 'gmx'], ['gmx.de', 'gmx'], ['gmx.com', 'gmx'], ['gmx.at', 'gmx'], ['gmx.ch', 'gmx'], ['web.de', 'webde'],
  ['mail.ru', 'mailru'], ['inbox.ru', 'mailru'], ['list.ru', 'mailru'], ['bk.ru', 'mailru'],
  ['yandex.ru', 'yandex'], ['yandex.com', 'yandex'], ['yandex.net', 'yandex'], ['ya.ru', 'yandex'],
  ['qq.com', 'qq'], ['foxmail.com', 'qq'], ['163.com', 'netease'], ['126.com', 'netease'], ['yeah.net', 'netease'], ['netease.com', 'netease'],
  ['zoho.com', 'zoho'], ['zohomail.com', 'zoho'], ['zoho.eu', 'zoho'],
  ['mimecast.com', 'mimecast'], ['mimecast.co.za', 'mimecast'],
  ['pphosted.com', 'proofpoint'], ['ppe-hosted.com', 'proofpoint'],
  ['barracudanetworks.com', 'barracuda'], ['cudamail.com', 'barracuda'],
  ['iphmx.com', 'cisco-ironport'],
  ['comcast.net', 'comcast'], ['orange.fr', 'orange'], ['wanadoo.fr', 'orange'],
  ['t-online.de', 't-online'], ['att.net', 'att'], ['sbcglobal.net', 'att'], ['verizon.net', 'verizon'],
  ['libero.it', 'libero'], ['seznam.cz', 'seznam'], ['naver.com', 'naver'], ['messagelabs.com', 'symantec'],
]

/** Text fragment (lower-case) -> blocklist name. */
export const BLOCKLIST_TEXT_HINTS: ReadonlyArray<readonly [string, string]> = [
  ['spamhaus', 'spamhaus'], ['barracudacentral', 'barracuda'], ['barracuda reputation', 'barracuda'], ['spamcop', 'spamcop'],
  ['sorbs.net', 'sorbs'], ['sorbs', 'sorbs'], ['uceprotect', 'uceprotect'], ['abuseat.org', 'cbl'], ['psbl.surriel.com', 'psbl'],
  ['dnsbl.manitu.net', 'nixspam'], ['nixspam', 'nixspam'], ['mailspike', 'mailspike'], ['invaluement', 'invaluement'],
  ['backscatterer', 'backscatterer'], ['surbl', 'surbl'], ['uribl', 'uribl'], ['spameatingmonkey', 'spameatingmonkey'],
  ['junkemailfilter', 'junkemailfilter'], ['hostkarma', 'junkemailfilter'], ['truncate.gbudb', 'gbudb'], ['0spam', '0spam'],
  ['s5h.net', 's5h'], ['lashback', 'lashback'], ['blocklist.de', 'blocklist.de'], ['dronebl', 'dronebl'], ['cloudmark', 'cloudmark'],
]

/** Words that announce a delay worth parsing for `retryAfter`. */
export const RETRY_TEXT_HINTS: readonly string[] = [
  'try again in', 'try again after', 'retry in', 'retry after', 'retry-after', 'wait', 'resend in', 'resend after', 'come back in', 'come back after', 'try later in',
  'try again in', 'deferred for', 'blocked for', 'try again later in', 'again in', 'retry later in',
]
