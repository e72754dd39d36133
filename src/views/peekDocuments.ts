// Peeked messages as read-only JSON documents under their own URI scheme.
import * as vscode from 'vscode';
import { Disposable } from '../services/lifecycle';

export const PEEK_SCHEME = 'kafkaflinklab-peek';

/**
 * Peeked messages as read-only JSON documents (a content provider's documents cannot be edited). The last
 * twenty are kept; older ones are dropped.
 */
export class PeekDocuments extends Disposable implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private counter = 0;

  constructor() {
    super();
    this._register(vscode.workspace.registerTextDocumentContentProvider(PEEK_SCHEME, this));
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '// This peek is no longer kept: peek again.\n';
  }

  /** A read-only document: JSON (peeked messages) or a log (a Flink exception's stack trace). */
  async open(title: string, content: string, language: 'json' | 'log' = 'json'): Promise<vscode.TextEditor> {
    const safe = title.replace(/[^A-Za-z0-9._ -]/g, '_').slice(0, 120);
    const uri = vscode.Uri.from({ scheme: PEEK_SCHEME, path: `/${safe}.${language}`, query: String(++this.counter) });
    this.contents.set(uri.toString(), content);
    while (this.contents.size > 20) this.contents.delete(this.contents.keys().next().value as string);
    const document = await vscode.workspace.openTextDocument(uri);
    if (document.languageId !== language)
      await vscode.languages.setTextDocumentLanguage(document, language).then(undefined, () => document);
    return vscode.window.showTextDocument(document, { preview: false });
  }
}
