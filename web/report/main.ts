/** The report page: the UI (app.ts) over the data inlined in the page. */
import { fail, start } from './app';
import { InlineSource } from './source';

performance.mark('hs-script');
try {
  start(new InlineSource(document), document.getElementById('app')!);
} catch (e) {
  fail(e);
}
