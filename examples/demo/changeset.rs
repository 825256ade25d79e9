//! Part two of the demo: a container that was offline while the project
//! changed gets one changeset — the diff plus only the content it lacks.

use std::time::Instant;

use velocity_sync::{
    BlobStore, Change, Changeset, FileEntry, FileId, FilePath, Manifest, ManifestId,
    MemoryBlobStore, Payload,
};
use velocity_sync_tools::template::VITE_REACT;

fn short(id: ManifestId) -> String {
    id.to_string()[..12].to_owned()
}

fn describe(change: &Change) -> String {
    match change {
        Change::Added { entry } => format!("added    {}", entry.path),
        Change::KindChanged { new, .. } => format!("retyped  {} ({})", new.path, new.kind.as_str()),
        Change::Modified { old, new } => {
            format!("modified {} ({} → {} bytes)", new.path, old.size, new.size)
        }
        Change::Removed { entry } => format!("removed  {}", entry.path),
        Change::Renamed { old, new } => format!("renamed  {} → {}", old.path, new.path),
    }
}

pub(crate) fn run() -> Result<(), velocity_sync::Error> {
    let started = Instant::now();
    println!();
    println!("the data model: an offline container catches up with one changeset");

    // The server's side: a project created from a template.
    let mut server_blobs = MemoryBlobStore::default();
    let mut v1 = Manifest::new();
    for (index, (path, content)) in VITE_REACT.iter().enumerate() {
        server_blobs.insert(content.as_bytes().to_vec());
        let entry = FileEntry::from_content(FilePath::parse(path)?, content.as_bytes())
            .with_id(FileId::from_u128(index as u128 + 1));
        v1.insert(entry)?;
    }
    // A generated data module, large enough that an edit travels as a delta.
    let catalog_path = FilePath::parse("src/data/catalog.ts")?;
    let catalog: String = std::iter::once("export const catalog = [\n".to_owned())
        .chain((1..=300).map(|n| {
            format!(
                "  {{ id: {n}, name: 'Product {n}', price: {}.99 }},\n",
                n % 90 + 9
            )
        }))
        .chain(std::iter::once("]\n".to_owned()))
        .collect();
    server_blobs.insert(catalog.clone().into_bytes());
    v1.insert(
        FileEntry::from_content(catalog_path.clone(), catalog.as_bytes())
            .with_id(FileId::from_u128(50)),
    )?;
    println!(
        "project   vite-react template + generated data: {} files, {} bytes",
        v1.len(),
        v1.total_bytes()
    );
    println!("v{}        manifest {}", v1.version(), short(v1.id()));

    // A container that received v1 earlier holds the same blobs.
    let mut container_blobs = server_blobs.clone();

    // An edit in the editor: change the heading, add a component, rename a file.
    let mut v2 = v1.successor();
    let app_path = FilePath::parse("src/App.tsx")?;
    let app = VITE_REACT
        .iter()
        .find(|(path, _)| *path == "src/App.tsx")
        .map_or("", |(_, content)| *content);
    let edited = app
        .replace("Hello from Velocity", "Hello, synced world")
        .replace("    </main>", "      <Counter />\n    </main>")
        .replace(
            "export default",
            "import Counter from './Counter'\n\nexport default",
        );
    let mut entry = v1
        .get(&app_path)
        .ok_or(velocity_sync::ManifestError::NotFound {
            path: app_path.clone(),
        })?;
    entry.hash = server_blobs.insert(edited.clone().into_bytes());
    entry.size = edited.len() as u64;
    entry.revision += 1;
    v2.insert(entry)?;
    let counter = "import { useState } from 'react'\n\nexport default function Counter() {\n  const [n, setN] = useState(0)\n  return <button onClick={() => setN(n + 1)}>clicked {n}</button>\n}\n";
    server_blobs.insert(counter.as_bytes().to_vec());
    v2.insert(
        FileEntry::from_content(FilePath::parse("src/Counter.tsx")?, counter.as_bytes())
            .with_id(FileId::from_u128(100)),
    )?;
    let repriced = catalog.replace(
        "name: 'Product 42', price: 51.99",
        "name: 'Product 42', price: 19.99",
    );
    let mut entry = v1
        .get(&catalog_path)
        .ok_or(velocity_sync::ManifestError::NotFound {
            path: catalog_path.clone(),
        })?;
    entry.hash = server_blobs.insert(repriced.clone().into_bytes());
    entry.size = repriced.len() as u64;
    entry.revision += 1;
    v2.insert(entry)?;
    let logo = v2.remove(&FilePath::parse("public/vite.svg")?)?;
    v2.insert(FileEntry {
        path: FilePath::parse("public/logo.svg")?,
        ..logo
    })?;
    println!(
        "v{}        manifest {} (parent {})",
        v2.version(),
        short(v2.id()),
        short(v1.id())
    );

    let diff = v1.diff(&v2);
    println!("diff      {} changes:", diff.changes.len());
    for change in &diff.changes {
        println!("            {}", describe(change));
    }

    let changeset = Changeset::between(&v1, &v2, &server_blobs)?;
    let wire = changeset.to_json();
    let deltas = changeset
        .contents
        .iter()
        .filter(|c| matches!(c.payload, Payload::Delta { .. }))
        .count();
    println!(
        "changeset {} bytes of JSON: {} line delta(s), {} whole blob(s), no bytes for the rename (full project: {} bytes)",
        wire.len(),
        deltas,
        changeset.contents.len() - deltas,
        v2.total_bytes()
    );

    let received = Changeset::from_json(&wire)?.apply(&v1, &mut container_blobs)?;
    let agrees = received == v2;
    println!(
        "container applied it: manifest {} {}",
        short(received.id()),
        if agrees {
            "= server ✓"
        } else {
            "≠ server ✗"
        }
    );
    println!("done in {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
    if agrees {
        Ok(())
    } else {
        Err(velocity_sync::ManifestError::TargetMismatch {
            expected: v2.id(),
            actual: received.id(),
        }
        .into())
    }
}
