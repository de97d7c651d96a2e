using Tuning.Algorithms.Space;

namespace Tuning.Algorithms.Tests;

public class SearchSpaceTests
{
    [Fact]
    public void Log_scale_maps_geometric_midpoint_to_half()
    {
        var lr = new DoubleParameter("lr", 1e-5, 1e-1, Log: true);
        Assert.Equal(0.5, lr.ToUnit(ParameterValue.Of(1e-3)), 12);
        Assert.Equal(1e-3, lr.FromUnit(0.5).Number, 12);
        Assert.Equal(1e-5, lr.FromUnit(0).Number, 15);
        Assert.Equal(1e-1, lr.FromUnit(1).Number, 12);
    }

    [Fact]
    public void Int_bounds_are_widened_by_half_a_step_so_every_value_gets_an_equal_share()
    {
        var layers = new IntParameter("layers", 1, 4);
        var counts = new int[5];
        for (var i = 0; i < 4000; i++) counts[(int)layers.FromUnit((i + 0.5) / 4000).Number]++;
        Assert.Equal([0, 1000, 1000, 1000, 1000], counts);
        Assert.Equal(0.125, layers.ToUnit(ParameterValue.Of(1)), 12);
        Assert.Equal(0.875, layers.ToUnit(ParameterValue.Of(4)), 12);
    }

    [Fact]
    public void Int_values_come_back_whole_and_in_bounds()
    {
        var batch = new IntParameter("batch", 8, 512, Log: true);
        for (var u = 0.0; u <= 1.0; u += 0.01)
        {
            var v = batch.FromUnit(u).Number;
            Assert.Equal(Math.Floor(v), v);
            Assert.InRange(v, 8, 512);
        }
    }

    [Fact]
    public void Step_snaps_doubles_to_the_grid()
    {
        var x = new DoubleParameter("x", 0, 15, Step: 0.5);
        Assert.Equal(7.5, x.FromUnit(0.51).Number);
        Assert.Equal(31, x.GridSize);
        Assert.Equal(15.0, x.GridValue(30).Number);
        Assert.Null(new DoubleParameter("y", 0, 1).GridSize);
    }

    [Fact]
    public void Discrete_and_categorical_values_round_trip_through_the_unit_interval()
    {
        var batch = new DiscreteParameter("batch", [64, 16, 128, 32]);
        Assert.Equal(new double[] { 16, 32, 64, 128 }, batch.Values);
        foreach (var value in batch.Values)
            Assert.Equal(value, batch.FromUnit(batch.ToUnit(ParameterValue.Of(value))).Number);

        var optimizer = new CategoricalParameter("optimizer", ["sgd", "adam", "rmsprop"]);
        Assert.True(optimizer.IsCategorical);
        foreach (var name in optimizer.Values)
            Assert.Equal(name, optimizer.FromUnit(optimizer.ToUnit(ParameterValue.Of(name))).Category);
    }

    [Fact]
    public void Parameter_values_print_in_invariant_culture()
    {
        Assert.Equal("0.001", ParameterValue.Of(0.001).ToString());
        Assert.Equal("3", ParameterValue.Of(3).ToString());
        Assert.Equal("adam", ParameterValue.Of("adam").ToString());
    }
}
