// Shared test setup. HTTP peers are played by nock; a test that forgets a mock fails loudly
// instead of reaching the network. Loopback stays open for the real SMTP, Haraka and database servers.
import nock from 'nock'

nock.disableNetConnect()
nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/)
