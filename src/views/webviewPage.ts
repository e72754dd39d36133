// The one way this extension's webviews are built: a strict CSP, styles and one module script from dist/webview, each with a nonce, no inline code.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export interface WebviewPage {
  title: string;
  /** Style sheets in dist/webview, in order; `codicons` adds VS Code's icon font first (its id is what codicon users look for). */
  styles: string[];
  codicons?: boolean;
  /** The module script in dist/webview. */
  script: string;
  /** Markup before the script: data the page reads at start (never code). */
  before?: string;
}

export function webviewPage(webview: vscode.Webview, root: vscode.Uri, page: WebviewPage): string {
  const n = randomBytes(18).toString('base64');
  const uri = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(root, file)).toString();
  const csp = [
    `default-src 'none'`,
    `script-src 'nonce-${n}'`,
    `style-src ${webview.cspSource} 'nonce-${n}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  const styles = [
    ...(page.codicons ? [`<link rel="stylesheet" href="${uri('codicon.css')}" nonce="${n}" id="vscode-codicon-stylesheet">`] : []),
    ...page.styles.map((file) => `<link rel="stylesheet" href="${uri(file)}" nonce="${n}">`),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles.join('\n')}
<title>${page.title}</title>
</head>
<body>
${page.before ?? ''}<script type="module" src="${uri(page.script)}" nonce="${n}"></script>
</body>
</html>`;
}
