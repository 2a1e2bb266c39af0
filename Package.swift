// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Sonde",
    products: [
        .executable(name: "sonde", targets: ["sonde"]),
        .library(name: "SondeLinalg", targets: ["SondeLinalg"]),
        .library(name: "SondeCorpus", targets: ["SondeCorpus"]),
        .library(name: "SondeProbe", targets: ["SondeProbe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        // MARK: C libraries from Debian (module map + shim header; nothing else)
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CLAPACKE", pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(
            name: "CLibXML2", pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]),

        // MARK: C kernels (the probe softmax's exp, AVX2 chosen at run time)
        .target(name: "CKernels"),

        // MARK: Libraries
        .target(name: "SondeBase"),
        .target(
            name: "SondeLinalg",
            dependencies: ["SondeBase", "CBLAS", "CLAPACKE", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),

        .target(name: "SondeCorpus", dependencies: ["SondeBase", "CLibXML2"]),
        .target(name: "SondeModels", dependencies: ["SondeBase", "SondeLinalg", .product(name: "RealModule", package: "swift-numerics")]),
        .target(name: "SondeProbe", dependencies: ["SondeBase", "SondeLinalg", "CKernels"]),
        .target(name: "SondeSimilarity", dependencies: ["SondeBase", "SondeLinalg"]),
        .target(
            name: "SondeStudy",
            dependencies: [
                "SondeBase", "SondeLinalg", "SondeCorpus", "SondeModels", "SondeProbe", "SondeSimilarity",
            ]),
        .target(name: "SondeReport", dependencies: ["SondeBase", "SondeSimilarity", "SondeStudy", "SondeModels"]),
        .target(
            name: "SondeExperiment",
            dependencies: [
                "SondeBase", "SondeLinalg", "SondeCorpus", "SondeModels", "SondeProbe", "SondeSimilarity", "SondeStudy", "SondeReport"
            ]),

        // MARK: The command-line tool
        .executableTarget(
            name: "sonde",
            dependencies: [
                "SondeBase", "SondeLinalg", "SondeCorpus", "SondeProbe", "SondeStudy", "SondeReport", "SondeModels", "SondeSimilarity", "SondeExperiment",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: Benchmarks against the Python peers (run with benchmarks/run.sh)
        .executableTarget(
            name: "sonde-bench",
            dependencies: ["SondeBase", "SondeLinalg", "SondeCorpus", "SondeProbe", "SondeModels", "SondeSimilarity", "SondeStudy"],
            path: "benchmarks/sonde-bench"),

        // MARK: The readers under libFuzzer (run with benchmarks/fuzz.sh; a replayer otherwise)
        .systemLibrary(name: "CLibFuzzer", path: "benchmarks/fuzz/CLibFuzzer"),
        .executableTarget(
            name: "sonde-fuzz",
            dependencies: ["SondeBase", "SondeLinalg", "SondeCorpus", "SondeProbe", "SondeModels", "SondeStudy", "SondeExperiment", "CLibFuzzer"],
            path: "benchmarks/sonde-fuzz"),

        // MARK: Tests
        .testTarget(
            name: "SondeLinalgTests",
            dependencies: ["SondeBase", "SondeLinalg", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .testTarget(name: "SondeCorpusTests", dependencies: ["SondeCorpus", "SondeBase"]),
        .testTarget(name: "SondeProbeTests", dependencies: ["SondeProbe", "SondeLinalg", "SondeBase", "CKernels"]),
        .testTarget(name: "SondeSimilarityTests", dependencies: ["SondeSimilarity", "SondeLinalg", "SondeBase", "SondeProbe"]),
        .testTarget(
            name: "SondeStudyTests",
            dependencies: ["SondeStudy", "SondeReport", "SondeProbe", "SondeSimilarity", "SondeCorpus", "SondeModels", "SondeLinalg", "SondeBase"]),
        .testTarget(
            name: "SondeExperimentTests",
            dependencies: ["SondeExperiment", "SondeStudy", "SondeReport", "SondeCorpus", "SondeModels", "SondeLinalg", "SondeBase"]),
        .testTarget(name: "SondeModelsTests", dependencies: ["SondeModels", "SondeLinalg", "SondeBase"]),
        .testTarget(
            name: "SondeCLITests",
            dependencies: ["sonde", "SondeBase", "SondeLinalg", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    ]
)
