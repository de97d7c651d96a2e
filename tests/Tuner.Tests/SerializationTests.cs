using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Tuning.Algorithms.Space;
using Tuning.Trials.Execution;
using Tuning.Tuner.Grains;

namespace Tuning.Tuner.Tests;

/// <summary>One type in a grain interface that Orleans cannot serialize stops every silo: these tests find it first.</summary>
public sealed class SerializationTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer(s => s.AddAssembly(typeof(IStudyGrain).Assembly)).BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    public static TheoryData<string> GrainInterfaceTypes()
    {
        var types = typeof(IStudyGrain).Assembly.GetTypes()
            .Where(t => t.IsInterface && typeof(IGrain).IsAssignableFrom(t))
            .SelectMany(t => t.GetMethods())
            .SelectMany(m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType))
            .Select(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Task<>) ? t.GetGenericArguments()[0] : t)
            .Where(t => t != typeof(Task))
            .Select(t => t.AssemblyQualifiedName!)
            .Distinct();
        var data = new TheoryData<string>();
        foreach (var type in types) data.Add(type);
        return data;
    }

    [Theory]
    [MemberData(nameof(GrainInterfaceTypes))]
    public void Every_type_in_a_grain_interface_has_a_codec(string typeName)
    {
        var type = Type.GetType(typeName)!;
        var codecs = _services.GetRequiredService<ICodecProvider>();
        Assert.NotNull(codecs.TryGetCodec(Nullable.GetUnderlyingType(type) ?? type));
    }

    [Fact]
    public void A_trial_record_round_trips_with_typed_parameters_and_curves()
    {
        var record = new TrialRecord("s-3", 3, TrialStatus.Succeeded,
            new Dictionary<string, ParameterValue> { ["layers"] = ParameterValue.Of(4), ["opt"] = ParameterValue.Of("sgd") },
            new Dictionary<string, double> { ["objective"] = 0.25 },
            new Dictionary<string, MetricPoint[]> { ["loss"] = [new MetricPoint(1, 0.9), new MetricPoint(2, 0.5)] },
            [new StepRecord("train", false, 1.5, null)], DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(2), null);
        var serializer = _services.GetRequiredService<Serializer>();
        var copy = serializer.Deserialize<TrialRecord>(serializer.SerializeToArray(record))!;
        Assert.Equal(ParameterValue.Of("sgd"), copy.Parameters["opt"]);
        Assert.Equal(ParameterValue.Of(4), copy.Parameters["layers"]);
        Assert.Equal(record.Intermediate["loss"], copy.Intermediate["loss"]);
        Assert.Equal(record.Steps, copy.Steps);
        Assert.Equal(record.CompletedAt, copy.CompletedAt);
    }
}
