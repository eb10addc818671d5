"""Live preview: a local page that shows each handout and deck as it prints, and follows every save.

`python build.py preview [--practice SLUG] [--port N]` serves http://127.0.0.1:N/ (loopback
only) with the handouts and decks of one practice. For the chosen item the page shows its
rendered pages (slides too, when LibreOffice is installed), its check findings and the
practice's warnings, and links to the handout's HTML (the same document the PDF is made
from). Nothing is written to the output folder: renders are kept in memory; LibreOffice
converts decks in a private temporary folder that is removed on exit.

Who does what:

* the **renderer** (`worker`), a child process in its own process group, does all the heavy
  work, one request (`messages`) at a time: load the project, render an item
  (`jobs.run.run_job`, then `render.raster` for page and slide images), run the checks
  (`checks.check_project`). Being a process, it can be stopped at once on Ctrl-C, whatever C
  library it is in;
* the **conductor** thread (`conductor`) decides what the renderer does next: reload after a
  change, then the item on screen, then the checks, then other open items. An item is
  re-rendered only if its cache key (`clinicpress.write.cache.JobKeys`, the build cache's key)
  moved;
* the **watcher** thread (`watcher`, watchfiles) notes which files under content/, templates/
  and practices/ changed and wakes the conductor;
* the **HTTP server** (`app`'s routes on `serve.server.LocalServer`) answers the page
  (`page`), its images and a Server-Sent Events stream that announces each new state; the page
  then fetches the new fragment, swaps it in and keeps its scroll position.

Items are rendered when the page first asks for them and re-rendered when a change affects
them, so a save rebuilds one handout, not the whole project. A change that breaks the
input shows its problems (file, line, message, hint) in the page and the terminal while
the last good render stays visible underneath. SIGINT and SIGTERM stop the threads and the
renderer's process group (LibreOffice included), then the command exits 0.
"""
