// GraphiQL from the app's own copy of its npm package (no CDN): works offline and under the CSP.
(function () {
  var url = window.location.href.split("?")[0].split("#")[0];
  var fetcher = GraphiQL.createFetcher({ url: url });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: true,
    }),
  );
})();
