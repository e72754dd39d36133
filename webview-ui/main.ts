// The results webview (browser side); filled in by the results view.
