using System.Diagnostics;
using Tuning.Trials.Execution.Kubernetes;
using YamlDotNet.RepresentationModel;

namespace Tuning.Trials.Tests.Kubernetes;

/// <summary>deploy/kubernetes/: what it deploys, that its settings are the ones the executor reads, and what kubectl makes of it.</summary>
public sealed class DeploymentManifestTests
{
    private static readonly string Folder = Path.Combine(RepositoryRoot(), "deploy", "kubernetes");

    private static string RepositoryRoot()
    {
        var folder = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(folder, "Tuning.sln"))) folder = Path.GetDirectoryName(folder) ?? throw new InvalidOperationException("no Tuning.sln above the tests");
        return folder;
    }

    /// <summary>Every object of every manifest, by kind and name.</summary>
    private static Dictionary<string, YamlMappingNode> Objects()
    {
        var objects = new Dictionary<string, YamlMappingNode>();
        foreach (var file in Directory.GetFiles(Folder, "*.yaml"))
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(File.ReadAllText(file)));
            foreach (var document in stream.Documents)
            {
                var root = (YamlMappingNode)document.RootNode;
                objects.Add($"{Scalar(root, "kind")}/{Scalar(root, "metadata", "name")}", root);
            }
        }
        return objects;
    }

    private static YamlNode? Node(YamlNode node, params string[] path)
    {
        foreach (var key in path)
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(key, out node!)) return null;
        return node;
    }

    private static string? Scalar(YamlNode node, params string[] path) => (Node(node, path) as YamlScalarNode)?.Value;

    [Fact]
    public void The_manifests_deploy_the_tuner_with_its_claim_its_settings_and_a_role_limited_to_jobs_and_pods()
    {
        var objects = Objects();
        Assert.Equal(
            ["ConfigMap/tuner", "Namespace/tuning", "PersistentVolumeClaim/tuning-data", "Role/tuner", "RoleBinding/tuner", "Service/tuner", "Service/tuner-pods", "ServiceAccount/tuner", "StatefulSet/tuner"],
            objects.Keys.Order(StringComparer.Ordinal));
        Assert.All(objects.Where(o => !o.Key.StartsWith("Namespace/", StringComparison.Ordinal)), o => Assert.Equal("tuning", Scalar(o.Value, "metadata", "namespace")));

        // The role: Jobs, pods and their logs in its namespace, nothing more.
        var rules = ((YamlSequenceNode)Node(objects["Role/tuner"], "rules")!).Children
            .SelectMany(rule => ((YamlSequenceNode)Node(rule, "resources")!).Children.Select(resource => (resource.ToString(),
                string.Join(",", ((YamlSequenceNode)Node(rule, "verbs")!).Children.Select(verb => verb.ToString())))))
            .ToDictionary(rule => rule.Item1, rule => rule.Item2);
        Assert.Equal(new Dictionary<string, string> { ["jobs"] = "create,get,list,watch,delete", ["pods"] = "get,list,watch", ["pods/log"] = "get" }, rules);

        // The settings are the executor's own, and it accepts them.
        var settings = ((YamlMappingNode)Node(objects["ConfigMap/tuner"], "data")!).Children.ToDictionary(entry => entry.Key.ToString(), entry => entry.Value.ToString());
        var (read, problem) = KubernetesSettings.Read(name => settings.GetValueOrDefault(name));
        Assert.Null(problem);
        Assert.Equal("tuning-data", read!.Claim);

        // The tuner mounts that claim where the settings say, runs as the role's account, and keeps its data there.
        var pod = Node(objects["StatefulSet/tuner"], "spec", "template", "spec")!;
        Assert.Equal("tuner", Scalar(pod, "serviceAccountName"));
        var container = ((YamlSequenceNode)Node(pod, "containers")!).Children[0];
        var claimVolume = ((YamlSequenceNode)Node(pod, "volumes")!).Children.Single(volume => Scalar(volume, "persistentVolumeClaim", "claimName") == read.Claim);
        var mount = ((YamlSequenceNode)Node(container, "volumeMounts")!).Children.Single(m => Scalar(m, "name") == Scalar(claimVolume, "name"));
        Assert.Equal(read.VolumeRoot, Scalar(mount, "mountPath"));
        var args = ((YamlSequenceNode)Node(container, "args")!).Children.Select(arg => arg.ToString()).ToList();
        Assert.StartsWith(read.VolumeRoot + "/", args[args.IndexOf("--data") + 1]);
        Assert.Equal("None", Scalar(objects["Service/" + Scalar(objects["StatefulSet/tuner"], "spec", "serviceName")], "spec", "clusterIP"));
        Assert.Equal("ReadWriteMany", ((YamlSequenceNode)Node(objects["PersistentVolumeClaim/tuning-data"], "spec", "accessModes")!).Children.Single().ToString());
    }

    [Fact]
    public async Task Kubectl_accepts_the_manifests_in_a_client_side_dry_run()
    {
        // No cluster runs here: kubectl's discovery and lookups are answered by the fake API server.
        await using var api = await FakeKubernetesApi.StartAsync();
        var start = new ProcessStartInfo("kubectl", ["apply", "--dry-run=client", "--validate=false", "-f", Folder, "--server", api.Url])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["KUBECONFIG"] = "/dev/null";
        using var kubectl = Process.Start(start)!;
        var output = await kubectl.StandardOutput.ReadToEndAsync();
        var error = await kubectl.StandardError.ReadToEndAsync();
        await kubectl.WaitForExitAsync();
        Assert.True(kubectl.ExitCode == 0, error);
        foreach (var created in new[] { "namespace/tuning", "role.rbac.authorization.k8s.io/tuner", "statefulset.apps/tuner", "configmap/tuner", "persistentvolumeclaim/tuning-data" })
            Assert.Contains($"{created} created (dry run)", output);
    }
}
