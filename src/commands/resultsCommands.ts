// The results view's commands: open it, and show a replay's folder instead of the output folder.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { errorMessage } from '../shared/errors';
import { registerCommandWithLogging, type Services } from './registration';

/** The replays' folders (`<output>/runs/<time>`), newest first. */
function listRuns(output: string): { name: string; folder: string }[] {
  const runs = join(output, 'runs');
  if (!existsSync(runs)) return [];
  return readdirSync(runs, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => ({ name: d.name, folder: join(runs, d.name) }))
    .sort((a, b) => b.name.localeCompare(a.name));
}

export function resultsCommands(s: Services): vscode.Disposable[] {
  // The results' own words for a failure (not the generic notification of registerCommandWithLogging).
  const failed = (error: unknown) => {
    s.log.info(`results: ${errorMessage(error)}`);
    void vscode.window.showErrorMessage(`Could not open the results: ${errorMessage(error)}`);
  };
  return [
    registerCommandWithLogging(
      'kafkaFlinkLab.results.open',
      () => {
        try {
          s.results.show();
        } catch (error) {
          failed(error);
        }
      },
      s.log,
    ),
    registerCommandWithLogging(
      'kafkaFlinkLab.results.chooseRun',
      async (folder?: unknown) => {
        try {
          if (typeof folder === 'string') return s.results.showRun(folder);
          const output = s.results.outputFolder();
          const runs = listRuns(output);
          const picked = await vscode.window.showQuickPick(
            [
              { label: "The pipeline's output folder", description: output, folder: undefined as string | undefined },
              ...runs.map((r) => ({ label: `Run ${r.name}`, description: `replay into ${r.folder}`, folder: r.folder })),
            ],
            {
              title: 'Pipeline Results: which run?',
              placeHolder: runs.length ? 'A replay writes into output/runs/<time>' : 'No replay yet: "Replay the Pipeline…" makes one',
            },
          );
          if (picked) s.results.showRun(picked.folder);
        } catch (error) {
          failed(error);
        }
      },
      s.log,
    ),
  ];
}
