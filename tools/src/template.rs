//! A small Vite + React + TypeScript project, the kind the platform's
//! orchestrator inserts for a new project.

/// `(path, content)` of every file of the template.
pub const VITE_REACT: &[(&str, &str)] = &[
    (
        "package.json",
        r#"{
  "name": "velocity-app",
  "private": true,
  "type": "module",
  "scripts": { "dev": "vite", "build": "tsc && vite build" },
  "dependencies": { "react": "^18.3.1", "react-dom": "^18.3.1" },
  "devDependencies": { "@vitejs/plugin-react": "^4.3.1", "typescript": "^5.5.3", "vite": "^5.4.1" }
}
"#,
    ),
    (
        "index.html",
        "<!doctype html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"UTF-8\" />\n    <title>Velocity app</title>\n  </head>\n  <body>\n    <div id=\"root\"></div>\n    <script type=\"module\" src=\"/src/main.tsx\"></script>\n  </body>\n</html>\n",
    ),
    (
        "vite.config.ts",
        "import { defineConfig } from 'vite'\nimport react from '@vitejs/plugin-react'\n\nexport default defineConfig({\n  plugins: [react()],\n})\n",
    ),
    (
        "tsconfig.json",
        "{\n  \"compilerOptions\": {\n    \"target\": \"ES2020\",\n    \"jsx\": \"react-jsx\",\n    \"module\": \"ESNext\",\n    \"moduleResolution\": \"bundler\",\n    \"strict\": true\n  },\n  \"include\": [\"src\"]\n}\n",
    ),
    (
        "src/main.tsx",
        "import React from 'react'\nimport ReactDOM from 'react-dom/client'\nimport App from './App'\nimport './index.css'\n\nReactDOM.createRoot(document.getElementById('root')!).render(\n  <React.StrictMode>\n    <App />\n  </React.StrictMode>,\n)\n",
    ),
    (
        "src/App.tsx",
        "export default function App() {\n  return (\n    <main>\n      <h1>Hello from Velocity</h1>\n      <p>Edit src/App.tsx and save to reload.</p>\n    </main>\n  )\n}\n",
    ),
    (
        "src/index.css",
        ":root {\n  font-family: Inter, system-ui, sans-serif;\n  color: #213547;\n}\n\nmain {\n  max-width: 40rem;\n  margin: 4rem auto;\n}\n",
    ),
    (
        "public/vite.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"32\" height=\"32\"><circle cx=\"16\" cy=\"16\" r=\"14\" fill=\"#646cff\"/></svg>\n",
    ),
    (
        "README.md",
        "# Velocity app\n\nCreated from the Vite + React template.\n",
    ),
];
